"""Logging in and out of the console.

A login checks the same identity sources as ``POST /api/auth/token`` (plugins'
``pyramidion_authenticate``, then the local password) under the same
throttle, and records the same kind of ``auth_session`` row: the cookie names
it, so revoking it (logout, deactivation, a password change) ends the login.
"""

from __future__ import annotations

import uuid
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED

from ...auth.models import Session
from ...auth.policy import logged_in
from ...auth.service import authenticate, login_throttle, revoke_session
from ...auth.throttle import TooManyAttempts
from ...auth.views import Credentials
from ...db import utcnow
from ...request import Request
from ..forms import FORM_ERRORS, Form
from ..framework import console_view, flash, safe_next

LOGIN_TEMPLATE = "pyramidion:console/templates/login.jinja2"


def open_console_session(request: Request, user: Any) -> Session:
    """A new login of ``user``, a row of the sessions table the cookie will name."""
    session = Session(id=uuid.uuid4().hex, user_id=user.id)
    request.db.add(session)
    user.last_login = utcnow()
    request.db.flush()
    return session


@console_view(
    "console.login", template=LOGIN_TEMPLATE, permission=NO_PERMISSION_REQUIRED, request_method=("GET", "POST")
)
def login(request: Request) -> Any:
    """The login form; on success, the page the visitor wanted (``next``) or the dashboard."""
    wanted = request.params.get("next", "")
    target = safe_next(request, wanted)
    if request.identity is not None and request.method == "GET":
        return HTTPSeeOther(target)
    form = Form(request, Credentials)
    if not form.submitted:
        return {"form": form, "next": wanted}
    try:
        credentials = form.validate()
    except FORM_ERRORS as exc:
        form.fail(exc)
        return {"form": form, "next": wanted}
    throttle = login_throttle(request)
    try:
        throttle.check(request.db, credentials.username, request.client_addr)
    except TooManyAttempts as exc:
        form.messages.append("Too many failed logins. Wait a few minutes, then try again.")
        request.response.status_int = 429
        request.response.headers["Retry-After"] = str(exc.retry_after)
        return {"form": form, "next": wanted}
    user = authenticate(request, credentials.username, credentials.password)
    if user is None:
        # Not doomed: the failed attempt must be committed to count.
        throttle.record(request.db, credentials.username, request.client_addr)
        form.messages.append("Wrong username or password.")
        request.response.status_int = 422
        return {"form": form, "next": wanted}
    previous = request.identity
    if previous is not None and previous.via == "cookie" and previous.session_id:
        revoke_session(request.db, previous.session_id, "logout")  # one console login per browser
    session = open_console_session(request, user)
    response = HTTPSeeOther(target)
    request.registry.session_cookie.set(request, response, user.id, session.id)
    return response


@console_view("console.logout", request_method="POST")
def logout(request: Request) -> Any:
    """End the console login: its session row is revoked, so the cookie is worthless even if kept."""
    identity = logged_in(request)
    if identity.via == "cookie" and identity.session_id:
        revoke_session(request.db, identity.session_id, "logout")
    flash(request, "You are logged out.", "info")
    response = HTTPSeeOther(request.route_url("console.login"))
    request.registry.session_cookie.clear(request, response)
    return response
