"""The task list and a task's detail cost a fixed number of queries, however much there is to show."""

from __future__ import annotations

import contextlib
import datetime as dt

from sqlalchemy import event

from pyramidion_tasks.models import Comment, Task


@contextlib.contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


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


def test_list_and_detail_queries_do_not_grow_with_the_data(tasks_app, db, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    headers = login(alice)
    engine = tasks_app.app.registry.db_engine

    def queries(url):
        with _counting(engine) as statements:
            tasks_app.get(url, headers=headers)
        return len(statements)

    _add_tasks(db, alice, [bob], count=1, comments_each=1)
    first_id = db.query(Task.id).scalar()
    small = (queries("/api/tasks?limit=10"), queries(f"/api/tasks/{first_id}"))

    _add_tasks(db, alice, [bob, carol], count=15, comments_each=12, start=1)
    db.add_all([Comment(task_id=first_id, author_id=carol.id, text=f"more {i}") for i in range(20)])
    db.commit()
    large = (queries("/api/tasks?limit=10"), queries(f"/api/tasks/{first_id}"))

    assert large == small
    # At most: BEGIN (SQLite), the caller's identity (looked up once a
    # request), then the page: tasks with their creators and the count, then
    # performers; or the task with its creator, performers, comments with
    # authors, attachments with uploaders.
    assert max(large) <= 8
    assert large[0] <= 4 and large[1] <= 6
