"""Sample data for ``pyramidion demo-data``: three users, tasks, comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select

from pyramidion.auth.models import User
from pyramidion.db import utcnow

from .models import Comment, Status, Task

DEMO_PASSWORD = "demo-password"
DEMO_USERS = ("anna", "boris", "clara")

# (name, specification, days until due, status, creator, performers, comments as (author, text))
DEMO_TASKS = [
    (
        "Prepare the quarterly report",
        "Collect the figures from every team and draft the summary.",
        14,
        Status.in_work,
        "anna",
        ["boris"],
        [("boris", "Figures from sales are in."), ("anna", "Thanks, the draft is due Friday.")],
    ),
    (
        "Renew the TLS certificates",
        "The certificates of the public web servers expire next month.",
        30,
        Status.new,
        "boris",
        ["clara", "anna"],
        [("clara", "I will take the web servers, Anna the mail relay?")],
    ),
    (
        "Clean up the shared drive",
        "Archive projects finished before last year.",
        3,
        Status.completed,
        "clara",
        ["clara"],
        [],
    ),
]


def _demo_user(db: Any, username: str, hasher: PasswordHasher) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        # The demo_data hook has no registry, so no configured hasher; argon2
        # hashes carry their parameters, so the core verifies this one alike.
        user = User(username=username, email=f"{username}@example.com", password_hash=hasher.hash(DEMO_PASSWORD))
        db.add(user)
    return user


def add_demo_data(db: Any) -> None:
    hasher = PasswordHasher()
    users = {name: _demo_user(db, name, hasher) for name in DEMO_USERS}
    today = utcnow().date()
    for name, specification, due_in, status, creator, performers, comments in DEMO_TASKS:
        if db.scalar(select(Task.id).where(Task.name == name)) is not None:
            continue
        db.add(
            Task(
                name=name,
                specification=specification,
                due_date=today + dt.timedelta(days=due_in),
                status=status,
                creator=users[creator],
                performers=[users[p] for p in performers],
                comments=[Comment(author=users[author], text=text) for author, text in comments],
            )
        )
    db.flush()
