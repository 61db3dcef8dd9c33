"""The business rules of hello: one function per use case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from pyramidion.api import Conflict
from pyramidion.auth import User
from pyramidion.request import Request

from .models import Greeting
from .tasks import deliver_greeting


def greet(request: Request, caller: User, name: str) -> Greeting:
    """Record a greeting from ``caller`` and have it delivered once the request commits.

    A caller keeps at most ``hello.max_per_user`` greetings (409 beyond).
    """
    limit = request.registry.settings["hello.max_per_user"]
    if request.db.scalar(select(func.count()).select_from(greetings_of(caller).subquery())) >= limit:
        raise Conflict(f"you have {limit} greetings already")
    greeting = Greeting(name=name, author_id=caller.id)
    request.db.add(greeting)
    request.db.flush()
    request.task(deliver_greeting)(greeting.id)
    return greeting


def greetings_of(caller: User) -> Select[Any]:
    """The query of the greetings ``caller`` wrote (unordered: the API's list orders it)."""
    return select(Greeting).where(Greeting.author_id == caller.id)
