"""The hello console page: your greetings and a form to greet, through the API's own schema and service."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.request import Request

from .. import services
from ..models import Greeting
from ..schemas import GreetingIn

TEMPLATES = "pyramidion_hello:console/templates/"


@console_view("hello.console.greetings", template=TEMPLATES + "greetings.jinja2", request_method=("GET", "POST"))
def greetings_page(request: Request) -> Any:
    """List the caller's greetings; a POST greets someone (POST-redirect-GET)."""
    caller = request.identity.user
    form = Form(request, GreetingIn)
    if form.submitted:
        try:
            greeting = services.greet(request, caller, form.validate().name)
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"{greeting.name} greeted")
            return HTTPSeeOther(request.route_url("hello.console.greetings"))
    rows = request.db.scalars(services.greetings_of(caller).order_by(Greeting.id.desc())).all()
    return {"form": form, "greetings": rows}
