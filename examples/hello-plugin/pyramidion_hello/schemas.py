"""Request and response bodies of the hello API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from pyramidion.api import In, Out


class GreetingIn(In):
    name: str = Field(min_length=1, max_length=100)


class GreetingOut(Out):
    id: int
    name: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
