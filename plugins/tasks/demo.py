"""Sample data for ``pyramidion demo-data``: three users, tasks, comments.

The demo users' passwords follow the platform's one scheme
(:func:`pyramidion.demo.demo_password`): ``anna-password``,
``boris-password``, ``clara-password``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from pyramidion.db import utcnow
from pyramidion.demo import demo_user

from .models import Comment, Status, Task

# (username, first name, last name)
DEMO_USERS = [("anna", "Anna", "Berg"), ("boris", "Boris", "Novak"), ("clara", "Clara", "Diaz")]

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


def add_demo_data(db: Any, registry: Any) -> None:
    """Add the demo users, tasks and comments; run again, it adds nothing twice."""
    users = {
        username: demo_user(db, registry, username, first_name=first, last_name=last)
        for username, first, last in DEMO_USERS
    }
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
