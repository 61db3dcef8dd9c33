"""Demo data of hello: a demo user with two greetings (``pyramidion demo-data``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pyramidion.demo import demo_user

from .models import Greeting

DEMO_GREETINGS = ("world", "Pyramidion")


def add_demo_data(db: Any, registry: Any) -> None:
    """The user ``greeter`` (password ``greeter-password``) and their greetings; safe to run twice."""
    greeter = demo_user(db, registry, "greeter")
    have = set(db.scalars(select(Greeting.name).where(Greeting.author_id == greeter.id)))
    db.add_all(Greeting(name=name, author_id=greeter.id) for name in DEMO_GREETINGS if name not in have)
    db.flush()
