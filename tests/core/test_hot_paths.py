"""What the performance work (issue 10) changed must not change what users see:
list totals counted alongside the page, and web workers forked from a master
that already talked to the database."""

from __future__ import annotations

import os

from sqlalchemy import text


def test_every_page_tells_the_same_total_even_past_the_end(app, make_user, login):
    admin = login(make_user("root", superuser=True))
    for name in ("ann", "bob", "cid", "dan"):
        make_user(name)
    pages = [app.get(f"/api/users?limit=2&offset={offset}", headers=admin).json for offset in (0, 2, 4, 40)]
    assert [page["count"] for page in pages] == [5, 5, 5, 5]
    assert [len(page["results"]) for page in pages] == [2, 2, 1, 0]
    assert pages[3]["next"] is None and "offset=38" in pages[3]["previous"]


def test_an_empty_list_counts_zero(app, make_user, login):
    admin = login(make_user("root", superuser=True))
    page = app.get("/api/users?search=nobody-by-this-name", headers=admin).json
    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_forked_worker_opens_a_connection_of_its_own(registry):
    engine = registry.db_engine
    with engine.connect() as conn:  # the master checks the database, as pserve's app factory does
        conn.execute(text("select 1"))
        masters = conn.connection.dbapi_connection  # kept referenced: no other object can take its place
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: report whether its pool handed it the master's connection
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
                os.write(writing, b"shared" if conn.connection.dbapi_connection is masters else b"own")
        finally:
            os._exit(0)
    os.close(writing)
    answer = os.read(reading, 16)
    os.waitpid(child, 0)
    os.close(reading)
    assert answer == b"own"
    with engine.connect() as conn:  # and the master's connection still works
        assert conn.execute(text("select 1")).scalar() == 1
