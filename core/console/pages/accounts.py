"""Users and groups, for administrators (``auth.admin``).

Every change goes through the very functions ``/api/users`` and ``/api/groups``
run (in :mod:`pyramidion.auth.views`), with their schemas: the same
uniqueness, password and group rules, and a deactivation or a new password
ends the user's sessions, console logins included.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...auth import views as auth_api
from ...auth.models import Group, User
from ...request import Request
from ..forms import FORM_ERRORS, Form
from ..framework import console_view, flash
from . import ADMIN

TEMPLATES = "pyramidion:console/templates/"


def _group_options(request: Request) -> list[tuple[str, str]]:
    groups = request.db.scalars(select(Group).order_by(Group.name))
    return [(group.name, group.name) for group in groups]


def _permission_options(request: Request) -> list[tuple[str, str]]:
    return [(name, f"{name}: {what}") for name, what in sorted(request.registry.permissions.items())]


def _user(request: Request) -> User:
    user = request.db.get(User, int(request.matchdict["id"]), options=[selectinload(User.groups)])
    if user is None:
        raise HTTPNotFound("no such user")
    return user


@console_view("console.users", template=TEMPLATES + "users.jinja2", permission=ADMIN)
def users(request: Request) -> dict[str, Any]:
    """Every user, searchable by username, email or name, a page at a time."""
    query = auth_api.users_listing.parse(request)
    return {"page": auth_api.list_users(request, query), "search": request.GET.get("search", "")}


@console_view(
    "console.user_new", template=TEMPLATES + "user_new.jinja2", permission=ADMIN, request_method=("GET", "POST")
)
def new_user(request: Request) -> Any:
    form = Form(request, auth_api.UserCreate)
    if form.submitted:
        try:
            user = auth_api.create_user(request, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"User {user.username} created.")
            return HTTPSeeOther(request.route_url("console.user", id=user.id))
    return {"form": form, "groups": _group_options(request)}


def _user_initial(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email_visible": user.email_visible,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "groups": [group.name for group in user.groups],
    }


@console_view("console.user", template=TEMPLATES + "user.jinja2", permission=ADMIN, request_method=("GET", "POST"))
def user(request: Request) -> Any:
    """One user: names, email, flags, groups, a new password."""
    target = _user(request)
    form = Form(request, auth_api.UserUpdate, initial=_user_initial(target))
    if form.submitted:
        try:
            auth_api.update_user(request, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"User {target.username} saved.")
            return HTTPSeeOther(request.route_url("console.user", id=target.id))
    return {"user": target, "form": form, "groups": _group_options(request)}


@console_view("console.user_active", permission=ADMIN, request_method="POST")
def user_active(request: Request) -> Any:
    """Deactivate (every session ends) or reactivate a user, with one button."""
    target = _user(request)
    active = request.POST.get("is_active") == "true"
    auth_api.update_user(request, auth_api.UserUpdate.model_validate({"is_active": active}))
    flash(request, f"User {target.username} {'reactivated' if active else 'deactivated; their sessions ended'}.")
    return HTTPSeeOther(request.route_url("console.user", id=target.id))


@console_view("console.groups", template=TEMPLATES + "groups.jinja2", permission=ADMIN, request_method=("GET", "POST"))
def groups(request: Request) -> Any:
    """Every group with its permissions; a form to add one."""
    form = Form(request, auth_api.GroupIn)
    if form.submitted:
        try:
            group = auth_api.create_group(request, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Group {group.name} created.")
            return HTTPSeeOther(request.route_url("console.groups"))
    return {
        "groups": auth_api.list_groups(request),
        "form": form,
        "permissions": _permission_options(request),
        "descriptions": request.registry.permissions,
    }


@console_view("console.group", template=TEMPLATES + "group.jinja2", permission=ADMIN, request_method=("GET", "POST"))
def group(request: Request) -> Any:
    """One group: rename it, describe it, choose its permissions."""
    target = auth_api.get_group(request)
    initial = {"name": target.name, "description": target.description, "permissions": target.permissions}
    form = Form(request, auth_api.GroupUpdate, initial=initial)
    if form.submitted:
        try:
            auth_api.update_group(request, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Group {target.name} saved.")
            return HTTPSeeOther(request.route_url("console.group", id=target.id))
    members = request.db.scalars(
        select(User).join(User.groups).where(Group.id == target.id).order_by(User.username)
    ).all()
    return {"group": target, "form": form, "permissions": _permission_options(request), "members": members}


@console_view("console.group_delete", permission=ADMIN, request_method="POST")
def group_delete(request: Request) -> Any:
    target = auth_api.get_group(request)
    name = target.name
    auth_api.delete_group(request)
    flash(request, f"Group {name} deleted.")
    return HTTPSeeOther(request.route_url("console.groups"))
