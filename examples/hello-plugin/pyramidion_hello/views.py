"""The hello JSON API: validate, call a service, answer."""

from __future__ import annotations

from typing import Any

from pyramidion.api import Listing, Page, api_view
from pyramidion.request import Request

from . import services
from .models import Greeting
from .schemas import GreetingIn, GreetingOut

greetings = Listing(key=Greeting.id, ordering={"id": Greeting.id}, default_ordering="-id", search=[Greeting.name])


@api_view("hello.greetings", request_method="POST", body=GreetingIn, response=GreetingOut, status=201)
def create_greeting(request: Request, body: GreetingIn) -> Greeting:
    """Greet someone; the greeting is delivered in the background."""
    return services.greet(request, request.identity.user, body.name)


@api_view("hello.greetings", query=greetings, response=Page[GreetingOut])
def list_greetings(request: Request, query: Any) -> dict:
    """Your greetings, newest first."""
    return query.page(services.greetings_of(request.identity.user))
