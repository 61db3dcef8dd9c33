"""Preparing a benchmark database: migrations, users and tokens through the public API, issue 17's tasks."""

from __future__ import annotations

import datetime as dt

import requests
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from pyramidion import make_config, migrations

PASSWORD = "bench-password"  # of every user the benchmarks register
TASKS = 1000
COMMENTS = 3  # on each task


def migrated(settings: dict[str, str]) -> None:
    migrations.upgrade(make_config(dict(settings)).registry)


def user_token(base_url: str, username: str = "bench", password: str = PASSWORD) -> str:
    requests.post(
        f"{base_url}/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": password},
        timeout=10,
    )
    response = requests.post(
        f"{base_url}/api/auth/token", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    return response.json()["access"]


def seed_tasks(base_url: str, headers: dict[str, str], database_url: str) -> None:
    """Issue 17's data: :data:`TASKS` tasks of the caller, two performers and :data:`COMMENTS` comments each.

    The first task and its comments go through the API (the queue worker gets
    their notifications to send); the others are inserted in bulk
    (:func:`bulk_tasks`), which takes a second instead of minutes.
    """
    people = [requests.get(f"{base_url}/api/auth/me", headers=headers, timeout=10).json()["id"]]
    for name in ("pia", "per"):
        token = user_token(base_url, name)
        me = requests.get(f"{base_url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        people.append(me.json()["id"])
    creator, performers = people[0], people[1:]
    due = dt.date.today() + dt.timedelta(days=30)
    body = {"name": "task 0", "specification": "benchmark", "due_date": due.isoformat(), "performer_ids": performers}
    response = requests.post(f"{base_url}/api/tasks", json=body, headers=headers, timeout=10)
    response.raise_for_status()
    for number in range(COMMENTS):
        requests.post(
            f"{base_url}/api/tasks/{response.json()['id']}/comments",
            json={"text": f"comment {number}"},
            headers=headers,
            timeout=10,
        ).raise_for_status()
    bulk_tasks(database_url, creator, performers, due)


def bulk_tasks(database_url: str, creator: int, performers: list[int], due: dt.date) -> None:
    """Tasks 1 to :data:`TASKS` - 1 of ``creator``, due a day apart after ``due``, with :data:`COMMENTS`
    comments each by the creator and the performers in turn: inserted with the columns the API stores."""
    from pyramidion_tasks.models import Comment, Task, TaskPerformer

    people = [creator, *performers]
    engine = create_engine(database_url)
    with Session(engine) as db, db.begin():
        tasks = [
            {
                "name": f"task {n}",
                "specification": "benchmark",
                "due_date": due + dt.timedelta(days=n),
                "creator_id": creator,
            }
            for n in range(1, TASKS)
        ]
        ids = db.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), tasks).all()
        db.execute(
            insert(TaskPerformer), [{"task_id": task_id, "user_id": user} for task_id in ids for user in performers]
        )
        comments = [
            {"task_id": task_id, "author_id": people[n % len(people)], "text": f"comment {n}"}
            for task_id in ids
            for n in range(COMMENTS)
        ]
        db.execute(insert(Comment), comments)
    engine.dispose()
