"""My API keys (administrators see everyone's) and my password.

The pages call the functions behind ``/api/auth/api-keys`` and
``/api/auth/password``: a new key is shown once, a password change needs the
old one, counts a wrong one as a failed login and ends my other sessions.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from ...auth import views as auth_api
from ...auth.models import User
from ...auth.policy import logged_in
from ...auth.service import WrongPassword, change_password
from ...auth.throttle import TooManyAttempts
from ...request import Request
from ..forms import FORM_ERRORS, Form
from ..framework import console_view, flash

TEMPLATES = "pyramidion:console/templates/"


def _keys_page(request: Request, form: Form, created: dict[str, Any] | None = None) -> dict[str, Any]:
    keys = auth_api.list_api_keys(request)
    owners = {
        user.id: user.username
        for user in request.db.scalars(select(User).where(User.id.in_({k.user_id for k in keys})))
    }
    return {"keys": keys, "owners": owners, "form": form, "created": created}


@console_view("console.api_keys", template=TEMPLATES + "api_keys.jinja2", request_method=("GET", "POST"))
def api_keys(request: Request) -> Any:
    """My keys and a form for a new one; the new key's secret is on the answer, once."""
    form = Form(request, auth_api.APIKeyIn, initial={"paths": ["/api/*"]})
    created = None
    if form.submitted:
        try:
            created = auth_api.create_key(request, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            request.response.status_int = 201
            form.reset(initial={"paths": ["/api/*"]})
    return _keys_page(request, form, created)


@console_view("console.api_key_revoke", request_method="POST")
def api_key_revoke(request: Request) -> Any:
    auth_api.revoke_key(request)
    flash(request, "API key revoked: it works no more.")
    return HTTPSeeOther(request.route_url("console.api_keys"))


@console_view("console.password", template=TEMPLATES + "password.jinja2", request_method=("GET", "POST"))
def password(request: Request) -> Any:
    """Change my password: the old one first; my other sessions end, this one stays."""
    form = Form(request, auth_api.PasswordChange)
    if not form.submitted:
        return {"form": form}
    try:
        body = form.validate()
        if request.POST.get("confirm_password", "") != body.new_password:
            form.errors["confirm_password"] = ["The two new passwords differ."]
            request.response.status_int = 422
            return {"form": form}
        identity = logged_in(request)
        change_password(request, identity.user, body.old_password, body.new_password, keep_session=identity.session_id)
    except WrongPassword as exc:
        form.fail(exc, doom=False)  # the failed attempt must be committed to count
    except TooManyAttempts as exc:
        form.fail("Too many wrong passwords. Wait a few minutes, then try again.", status=429, doom=False)
        request.response.headers["Retry-After"] = str(exc.retry_after)
    except FORM_ERRORS as exc:
        form.fail(exc)
    else:
        flash(request, "Password changed. Your other sessions have ended.")
        return HTTPSeeOther(request.route_url("console.home"))
    return {"form": form}
