"""The task list and a task's detail read the tasks in two statements each,
however much there is to show: no query per task, performer or comment (N+1)."""

from __future__ import annotations

import datetime as dt

from pyramidion.testing import recorded_statements
from pyramidion_tasks.models import Attachment, Comment, Task


def _add_tasks(db, creator, performers, count, comments_each, start=0):
    due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    for n in range(start, start + count):
        db.add(
            Task(
                name=f"task {n}",
                due_date=due,
                creator=creator,
                performers=performers,
                comments=[
                    Comment(author=performers[i % len(performers)], text=f"comment {i}") for i in range(comments_each)
                ],
            )
        )
    db.commit()


def _reads_of_tasks(app, headers):
    """How many statements a GET of a URL runs on the tasks' tables (the caller's identity aside)."""
    engine = app.app.registry.db_engine

    def reads(url):
        with recorded_statements(engine) as statements:
            app.get(url, headers=headers)
        return len([sql for sql in statements if "tasks_" in sql])

    return reads


def test_the_list_reads_two_statements_whatever_the_page_size_and_the_performers(tasks_app, db, make_user, login):
    alice = make_user("alice")
    reads = _reads_of_tasks(tasks_app, login(alice))
    assert reads("/api/tasks") == 1  # nothing to list: no performers to read

    _add_tasks(db, alice, [alice], count=1, comments_each=0)
    one = reads("/api/tasks?limit=1")

    crowd = [make_user(f"user{n}") for n in range(20)]
    _add_tasks(db, alice, [alice, *crowd], count=60, comments_each=3, start=1)
    assert one == 2
    assert [reads(f"/api/tasks?limit={limit}") for limit in (1, 10, 100)] == [2, 2, 2]
    assert reads("/api/tasks?scope=mine&ordering=name&search=task") == 2
    big = tasks_app.get("/api/tasks?limit=100", headers=login(alice)).json
    assert len(big["results"]) == 61 and all(len(task["performers"]) == 21 for task in big["results"][1:])


def test_the_detail_reads_two_statements_whatever_its_performers_comments_and_attachments(
    tasks_app, db, make_user, login
):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    reads = _reads_of_tasks(tasks_app, login(alice))
    _add_tasks(db, alice, [bob], count=1, comments_each=0)
    task_id = db.query(Task.id).scalar()
    bare = reads(f"/api/tasks/{task_id}")

    task = db.get(Task, task_id)
    task.performers = [bob, carol, *(make_user(f"user{n}") for n in range(10))]
    db.add_all([Comment(task_id=task_id, author_id=carol.id, text=f"more {i}") for i in range(30)])
    db.add_all(
        Attachment(
            task_id=task_id,
            uploader_id=bob.id,
            filename=f"plan {i}.pdf",
            content_type="application/pdf",
            size=10,
            stored_name=f"stored-{i}",
        )
        for i in range(5)
    )
    db.commit()
    assert (bare, reads(f"/api/tasks/{task_id}")) == (2, 2)
    detail = tasks_app.get(f"/api/tasks/{task_id}", headers=login(alice)).json
    assert (len(detail["performers"]), len(detail["comments"]), len(detail["attachments"])) == (12, 30, 5)
    assert [a["filename"] for a in detail["attachments"]] == [f"plan {i}.pdf" for i in range(5)]
    assert detail["attachments"][0]["uploader"] == {"id": bob.id, "username": "bob", "display_name": "bob"}
