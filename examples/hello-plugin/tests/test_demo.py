"""``pyramidion demo-data`` for hello: a demo user who can log in, their greetings, once."""

from __future__ import annotations

from sqlalchemy import func, select

from pyramidion.demo import demo_password
from pyramidion_hello import demo
from pyramidion_hello.models import Greeting


def test_demo_data_twice_gives_one_set_the_demo_user_can_read(app, registry, in_transaction, db):
    in_transaction(lambda session: demo.add_demo_data(session, registry))
    in_transaction(lambda session: demo.add_demo_data(session, registry))
    assert db.scalar(select(func.count()).select_from(Greeting)) == len(demo.DEMO_GREETINGS)
    token = app.post_json("/api/auth/token", {"username": "greeter", "password": demo_password("greeter")}).json
    listed = app.get("/api/hello/greetings", headers={"Authorization": f"Bearer {token['access']}"}).json
    assert {g["name"] for g in listed["results"]} == set(demo.DEMO_GREETINGS)
