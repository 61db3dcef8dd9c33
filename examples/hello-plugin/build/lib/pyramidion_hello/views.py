from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from pyramidion.api import Listing, Page, api_view

from .models import Greeting
from .tasks import deliver_greeting


class GreetingIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class GreetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None


greetings = Listing(key=Greeting.id, ordering={"id": Greeting.id}, default_ordering="-id", search=[Greeting.name])


@api_view("hello.greetings", request_method="POST", body=GreetingIn, response=GreetingOut, status=201)
def create_greeting(request: Any, body: GreetingIn) -> Greeting:
    """Greet someone; the greeting is delivered in the background."""
    greeting = Greeting(name=body.name, author_id=request.identity.user.id)
    request.db.add(greeting)
    request.db.flush()
    request.task(deliver_greeting)(greeting.id)
    return greeting


@api_view("hello.greetings", query=greetings, response=Page[GreetingOut])
def list_greetings(request: Any, query: Any) -> dict:
    """Your greetings, newest first."""
    return query.page(select(Greeting).where(Greeting.author_id == request.identity.user.id))
