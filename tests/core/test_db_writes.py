"""What a view writes through ``request.db`` is committed, however it was written.

zope.sqlalchemy, which ties the session to the request's transaction, counts
only flushes and ORM-enabled statements as writes; the core counts a Table's
INSERT, UPDATE and DELETE and SQL as text too, or the request's commit would
drop them without a word (pyramidion.db).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from pyramidion import hookimpl
from pyramidion.auth.models import Group, User

USERS = User.__table__
GROUPS = Group.__table__


class _Writes:
    """A plugin whose views write with statements only, never an ORM object or flush."""

    @hookimpl
    def pyramidion_includeme(self, config: Any) -> None:
        def table_update(request: Any) -> dict[str, str]:
            user_id = request.identity.user_id
            request.db.execute(update(USERS).where(USERS.c.id == user_id).values(first_name="Table"))
            return {"ok": "yes"}

        def table_insert(request: Any) -> dict[str, str]:
            request.db.execute(insert(GROUPS).values(name="inserted"))
            return {"ok": "yes"}

        def as_text(request: Any) -> dict[str, str]:
            request.db.execute(
                text("UPDATE auth_user SET last_name = 'Text' WHERE id = :id"), {"id": request.identity.user_id}
            )
            return {"ok": "yes"}

        for name, view in (("update", table_update), ("insert", table_insert), ("text", as_text)):
            config.add_route(f"writes.{name}", f"/{name}")
            for method in ("GET", "POST"):
                config.add_api_view(view, f"writes.{name}", request_method=method)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_statements_written_through_request_db_are_committed(method, make_app, make_user, login, db):
    app = make_app(extra_plugins=(("writes", _Writes()),))
    alice = make_user("alice")
    headers = login(alice)
    call = app.get if method == "GET" else app.post_json
    for path in ("update", "insert", "text"):
        assert call(f"/api/writes/{path}", headers=headers).json == {"ok": "yes"}
    db.rollback()
    assert db.execute(select(User.first_name, User.last_name).where(User.id == alice.id)).one() == ("Table", "Text")
    assert db.scalar(select(Group.id).where(Group.name == "inserted")) is not None
