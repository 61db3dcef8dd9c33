"""``/api/auth/*``, ``/api/users``, ``/api/groups``: identity over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import EmailStr, Field, TypeAdapter, field_validator
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..api import Invalid, Listing, Page, api_view, ensure_unique
from ..api.errors import error_response
from ..api.render import answer_conditionally, dumps
from ..api.schemas import In, Out, Patch
from ..db import utcnow
from ..request import Request
from .models import APIKey, Group, GroupPermission, User
from .names import USERNAME_MAX_LENGTH, USERNAME_PATTERN, check_username, email_key, username_key
from .policy import logged_in
from .service import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    RefreshRejected,
    WrongPassword,
    authenticate,
    change_password,
    check_password,
    create_api_key,
    deactivate,
    login_throttle,
    request_password_reset,
    reset_password,
    rotate,
    set_password,
    start_session,
)
from .service import (
    logout as logout_session,
)
from .throttle import TooManyAttempts

ADMIN = "auth.admin"
USERNAME_DESCRIPTION = (
    "ASCII letters and digits, '.', '_' and '-', starting with a letter or a digit; "
    "compared without regard to case or Unicode form"
)
PASSWORD_DESCRIPTION = (
    f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters; not the username, not a common password"
)
NAME = Field("", max_length=150)


# -- schemas -----------------------------------------------------------------


class RegisterIn(In):
    username: str = Field(
        min_length=1,
        max_length=USERNAME_MAX_LENGTH,
        pattern=USERNAME_PATTERN.pattern,
        description=USERNAME_DESCRIPTION,
    )
    email: EmailStr
    password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, description=PASSWORD_DESCRIPTION
    )
    first_name: str = NAME
    last_name: str = NAME

    @field_validator("username")
    @classmethod
    def _username(cls, username: str) -> str:
        return check_username(username)


class UserOut(Out):
    id: int
    username: str
    email: str


class Credentials(In):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TokenPair(Out):
    access: str
    refresh: str
    token_type: str = "Bearer"
    expires_in: int


class RefreshIn(In):
    refresh: str = Field(min_length=1, max_length=200)


class Me(Out):
    model_config = {"extra": "allow"}
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    display_name: str
    email_visible: bool
    is_superuser: bool
    groups: list[str]
    permissions: list[str]


class MePatch(Patch):
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    email_visible: bool = Field(description="show my email to other members in the user directory")


class PasswordChange(In):
    old_password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, description=PASSWORD_DESCRIPTION
    )


class PasswordResetRequest(In):
    email: EmailStr


class PasswordResetConfirm(In):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, description=PASSWORD_DESCRIPTION
    )


class Accepted(Out):
    message: str


class DirectoryEntry(Out):
    id: int
    username: str
    display_name: str
    first_name: str
    last_name: str
    email: str | None = Field(None, description="only when the user allows it")


class GroupRef(Out):
    id: int
    name: str


class UserDetail(UserOut):
    first_name: str
    last_name: str
    display_name: str
    email_visible: bool
    is_active: bool
    is_superuser: bool
    created_at: dt.datetime
    last_login: dt.datetime | None
    groups: list[GroupRef]


class UserCreate(RegisterIn):
    is_superuser: bool = False
    groups: list[str] = []


class UserUpdate(Patch):
    email: EmailStr
    password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, description=PASSWORD_DESCRIPTION
    )
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    email_visible: bool
    is_active: bool
    is_superuser: bool
    groups: list[str]


class GroupIn(In):
    name: str = Field(min_length=1, max_length=150)
    description: str = Field("", max_length=500)
    permissions: list[str] = []


class GroupUpdate(Patch):
    name: str = Field(min_length=1, max_length=150)
    description: str = Field(max_length=500)
    permissions: list[str]


class GroupOut(Out):
    id: int
    name: str
    description: str
    permissions: list[str]


class APIKeyIn(In):
    name: str = Field(min_length=1, max_length=150)
    paths: list[str] = Field(min_length=1, max_length=50, description="glob patterns such as /api/bar/*")
    user_id: int | None = Field(None, description="acting user (administrators only); default: yourself")

    @field_validator("paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or len(path) > 200:
                raise ValueError("each pattern must start with / and be at most 200 characters")
        return paths


class APIKeyOut(Out):
    id: int
    name: str
    user_id: int
    prefix: str
    paths: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class APIKeyCreated(APIKeyOut):
    key: str = Field(description="shown once; only a hash is kept")


UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="api"'}


def _too_many(exc: TooManyAttempts) -> Any:
    return error_response(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


def ensure_new_account(db: Any, username: str, email: str, exclude: int | None = None) -> None:
    """409 naming the field when the username or the email belongs to someone else already."""
    if username:
        ensure_unique(db, User.username_key, username_key(username), exclude=exclude, field="username")
    if email:
        ensure_unique(db, User.email_key, email_key(email), exclude=exclude, field="email")


def _new_user(request: Request, body: RegisterIn, **fields: Any) -> User:
    """A new account from ``body`` (registration's fields), checked as every account is, added to the session."""
    ensure_new_account(request.db, body.username, str(body.email))
    check_password(body.password, body.username)
    user = User(
        username=body.username,
        email=str(body.email),
        first_name=body.first_name,
        last_name=body.last_name,
        password_hash=request.registry.passwords.hash(body.password),
        **fields,
    )
    request.db.add(user)
    request.db.flush()
    return user


# -- login and tokens --------------------------------------------------------


@api_view(
    "auth.register",
    request_method="POST",
    body=RegisterIn,
    response=UserOut,
    status=201,
    permission=NO_PERMISSION_REQUIRED,
    responses={403: "Registration is closed", 409: "Username or email taken"},
)
def register(request: Request, body: RegisterIn) -> User:
    """Create an account.

    Usernames are compared without regard to case or Unicode form (``Admin``
    and a fullwidth ``ａｄｍｉｎ`` are ``admin``), emails without regard to case.
    """
    if not request.registry.auth_settings.registration_open:
        raise HTTPForbidden("registration is closed")
    return _new_user(request, body)


@api_view(
    "auth.token",
    request_method="POST",
    body=Credentials,
    form=True,
    response=TokenPair,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Wrong username or password", 429: "Too many failed logins"},
)
def token(request: Request, body: Credentials) -> Any:
    """Log in: exchange a username and password for an access and a refresh token."""
    throttle = login_throttle(request)
    try:
        throttle.check(request.db, body.username, request.client_addr)
    except TooManyAttempts as exc:
        return _too_many(exc)
    user = authenticate(request, body.username, body.password)
    if user is None:
        # Returned, not raised, so the failed attempt is committed and counts.
        throttle.record(request.db, body.username, request.client_addr)
        return error_response(401, "wrong username or password", headers=UNAUTHORIZED)
    return start_session(request, user)


@api_view(
    "auth.refresh",
    request_method="POST",
    body=RefreshIn,
    response=TokenPair,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Refresh token unknown, used, expired or revoked"},
)
def refresh(request: Request, body: RefreshIn) -> Any:
    """Rotate a refresh token: the old one is spent; using it again revokes the session."""
    try:
        return rotate(request, body.refresh)
    except RefreshRejected as exc:
        # Returned, not raised: a revocation for reuse must be committed.
        return error_response(401, f"refresh rejected: {exc}", headers=UNAUTHORIZED)


@api_view("auth.logout", request_method="POST", body=RefreshIn, status=204, permission=NO_PERMISSION_REQUIRED)
def logout(request: Request, body: RefreshIn) -> None:
    """Revoke the session of a refresh token, and with it every token of that login."""
    logout_session(request, body.refresh)


def _me(request: Request) -> dict[str, Any]:
    identity = logged_in(request)
    plugins_add = request.registry.pm.hook.pyramidion_me.get_hookimpls()
    user = identity.user if plugins_add else identity.profile  # a row in request.db only for plugins
    permissions = (
        sorted(request.registry.permissions) if identity.is_superuser else sorted(identity.permissions(request.db))
    )
    result: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "email_visible": user.email_visible,
        "is_superuser": user.is_superuser,
        "groups": list(identity.group_names(request.db)),
        "permissions": permissions,
    }
    if plugins_add:
        for extra in request.registry.pm.hook.pyramidion_me(request=request, user=user):
            result.update(extra or {})
    return result


_ME = TypeAdapter(Me)


@api_view("auth.me", response=Me)
def me(request: Request) -> Response:
    """Who am I: the calling user with groups, permissions and what plugins add.

    The body is kept with the caller's cached identity (``auth.identity_cache_seconds``):
    what another process changes, a wallet's balance say, may show up to that late.
    """

    def render() -> bytes:
        return dumps(_ME.dump_python(_ME.validate_python(_me(request)), mode="json", by_alias=True))

    response = request.response
    response.content_type = "application/json"
    response.body = request.registry.identity_cache.answer(logged_in(request), "me", render)
    return answer_conditionally(request, response)


@api_view("auth.me", request_method="PATCH", body=MePatch, response=Me)
def update_me(request: Request, body: MePatch) -> dict[str, Any]:
    """Change my display name (first and last name) and whether the directory shows my email."""
    user = logged_in(request).user
    for name, value in body.changes().items():
        setattr(user, name, value)
    request.db.flush()
    return _me(request)


def _session_of(request: Request) -> str | None:
    """The login (``auth_session`` id) the request is made in: its token's, or its console cookie's."""
    session_id = getattr(request.identity, "session_id", None)
    if session_id is None and logged_in(request).via == "token":
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        session_id = request.registry.token_codec.decode(token.strip(), "access").get("sid")
    return session_id


def _refuse_api_keys(request: Request, what: str) -> None:
    if logged_in(request).via == "api_key":
        raise HTTPForbidden(f"an API key cannot {what}")


@api_view(
    "auth.password",
    request_method="POST",
    body=PasswordChange,
    status=204,
    responses={429: "Too many wrong passwords"},
)
def change_my_password(request: Request, body: PasswordChange) -> Any:
    """Change my password: the old one is required; every other session of mine ends.

    The session making the request stays logged in. A wrong old password is a
    422 on ``old_password`` and counts as a failed login.
    """
    _refuse_api_keys(request, "change a password")
    try:
        change_password(
            request,
            logged_in(request).user,
            body.old_password,
            body.new_password,
            keep_session=_session_of(request),
        )
    except WrongPassword as exc:
        # Returned, not raised, so the failed attempt is committed and counts.
        return error_response(exc.status, exc.message, exc.details)
    except TooManyAttempts as exc:
        return _too_many(exc)
    return None


@api_view(
    "auth.password_reset",
    request_method="POST",
    body=PasswordResetRequest,
    response=Accepted,
    status=202,
    permission=NO_PERMISSION_REQUIRED,
    responses={429: "Too many reset requests for this address or from this client"},
)
def ask_password_reset(request: Request, body: PasswordResetRequest) -> Any:
    """Ask for a password reset by email: the same answer whether or not the address exists.

    If it is an active user's address, a single-use token that expires
    (``auth.password_reset_ttl``) is mailed to it.
    """
    try:
        request_password_reset(request, str(body.email))
    except TooManyAttempts as exc:
        return _too_many(exc)
    return {"message": "if this address belongs to an account, a reset token is on its way"}


@api_view(
    "auth.password_reset_confirm",
    request_method="POST",
    body=PasswordResetConfirm,
    status=204,
    permission=NO_PERMISSION_REQUIRED,
)
def confirm_password_reset(request: Request, body: PasswordResetConfirm) -> None:
    """Set a new password with a mailed reset token; the token is spent and every session of the user ends."""
    reset_password(request, body.token, body.password)


# -- users -------------------------------------------------------------------

users_listing = Listing(
    key=User.id,
    ordering={"id": User.id, "username": User.username, "created_at": User.created_at},
    default_ordering="username",
    search=[User.username, User.email, User.first_name, User.last_name],
)


def _starts_with(column: Any) -> Any:
    return lambda term: func.lower(column).startswith(term.lower(), autoescape=True)


directory_listing = Listing(
    key=User.id,
    ordering={"username": User.username_key, "last_name": User.last_name, "first_name": User.first_name},
    default_ordering="username",
    search=[
        lambda term: User.username_key.startswith(username_key(term), autoescape=True),
        _starts_with(User.first_name),
        _starts_with(User.last_name),
    ],
)


def _directory_entry(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email if user.email_visible else None,
    }


@api_view("users.directory", query=directory_listing, response=Page[DirectoryEntry])
def user_directory(request: Request, query: Any) -> dict[str, Any]:
    """The user directory: every active user, for any member.

    ``?search=`` matches the start of the username, first or last name.
    Emails are shown only of users who allow it (``email_visible``).
    """
    page = query.page(select(User).where(User.is_active.is_(True)))
    return {**page, "results": [_directory_entry(user) for user in page["results"]]}


def _groups_by_name(db: Any, names: list[str]) -> list[Group]:
    groups = list(db.scalars(select(Group).where(Group.name.in_(names)))) if names else []
    missing = sorted(set(names) - {g.name for g in groups})
    if missing:
        raise Invalid.field("groups", f"no such group(s): {', '.join(missing)}")
    return groups


def _user(request: Request) -> User:
    user = request.db.get(User, int(request.matchdict["id"]), options=[selectinload(User.groups)])
    if user is None:
        raise HTTPNotFound("no such user")
    return user


@api_view("users", query=users_listing, response=Page[UserDetail], permission=ADMIN)
def list_users(request: Request, query: Any) -> dict[str, Any]:
    """All users (administrators)."""
    return query.page(select(User).options(selectinload(User.groups)))


@api_view(
    "users",
    request_method="POST",
    body=UserCreate,
    response=UserDetail,
    status=201,
    permission=ADMIN,
    responses={409: "Username or email taken"},
)
def create_user(request: Request, body: UserCreate) -> User:
    """Create a user (administrators)."""
    user = _new_user(request, body, is_superuser=body.is_superuser)
    user.groups = _groups_by_name(request.db, body.groups)
    return user


@api_view("user", response=UserDetail, permission=ADMIN)
def get_user(request: Request) -> User:
    """One user (administrators)."""
    return _user(request)


@api_view(
    "user",
    request_method="PATCH",
    body=UserUpdate,
    response=UserDetail,
    permission=ADMIN,
    responses={409: "Email taken"},
)
def update_user(request: Request, body: UserUpdate) -> User:
    """Change a user (administrators): email, password, names, flags, groups.

    A new password or a deactivation ends every session of the user.
    """
    user = _user(request)
    changes = body.changes()
    if "email" in changes:
        ensure_new_account(request.db, "", str(changes["email"]), exclude=user.id)
        user.email = str(changes["email"])
    for name in ("first_name", "last_name", "email_visible", "is_superuser"):
        if name in changes:
            setattr(user, name, changes[name])
    if "groups" in changes:
        user.groups = _groups_by_name(request.db, changes["groups"])
    if "password" in changes:
        set_password(request, user, changes["password"])
    if "is_active" in changes:
        if changes["is_active"]:
            user.is_active = True
        elif user.is_active:
            deactivate(request, user)
    request.db.flush()
    return user


@api_view("user", request_method="DELETE", status=204, permission=ADMIN)
def delete_user(request: Request) -> None:
    """Delete a user (administrators). Prefer deactivating: records keep their author."""
    user = _user(request)
    if user.id == logged_in(request).user.id:
        raise Invalid("you cannot delete yourself")
    request.db.delete(user)


# -- groups ------------------------------------------------------------------


def _check_permissions(request: Request, names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(request.registry.permissions))
    if unknown:
        raise Invalid.field("permissions", f"unknown permission(s): {', '.join(unknown)}")
    return sorted(set(names))


def _group(request: Request) -> Group:
    group = request.db.get(Group, int(request.matchdict["id"]))
    if group is None:
        raise HTTPNotFound("no such group")
    return group


@api_view("groups", response=list[GroupOut], permission=ADMIN)
def list_groups(request: Request) -> list[Group]:
    """All groups with their permissions (administrators)."""
    return list(request.db.scalars(select(Group).options(selectinload(Group.grants)).order_by(Group.name)))


@api_view(
    "groups",
    request_method="POST",
    body=GroupIn,
    response=GroupOut,
    status=201,
    permission=ADMIN,
    responses={409: "Name taken"},
)
def create_group(request: Request, body: GroupIn) -> Group:
    """Create a group (administrators)."""
    ensure_unique(request.db, Group.name, body.name)
    group = Group(
        name=body.name,
        description=body.description,
        grants=[GroupPermission(permission=p) for p in _check_permissions(request, body.permissions)],
    )
    request.db.add(group)
    request.db.flush()
    return group


@api_view("group", response=GroupOut, permission=ADMIN)
def get_group(request: Request) -> Group:
    """One group (administrators)."""
    return _group(request)


@api_view(
    "group",
    request_method="PATCH",
    body=GroupUpdate,
    response=GroupOut,
    permission=ADMIN,
    responses={409: "Name taken"},
)
def update_group(request: Request, body: GroupUpdate) -> Group:
    """Rename a group or replace its permissions (administrators)."""
    group = _group(request)
    if body.name is not None:
        ensure_unique(request.db, Group.name, body.name, exclude=group.id)
        group.name = body.name
    if body.description is not None:
        group.description = body.description
    if body.permissions is not None:
        wanted = _check_permissions(request, body.permissions)
        group.grants = [g for g in group.grants if g.permission in wanted]
        have = set(group.permissions)
        group.grants += [GroupPermission(permission=p) for p in wanted if p not in have]
    request.db.flush()
    return group


@api_view("group", request_method="DELETE", status=204, permission=ADMIN)
def delete_group(request: Request) -> None:
    """Delete a group (administrators)."""
    request.db.delete(_group(request))


@api_view("groups.permissions", response=dict[str, str], permission=ADMIN)
def list_permissions(request: Request) -> dict[str, str]:
    """Every permission the core and the loaded plugins define, with what it allows."""
    return request.registry.permissions


# -- API keys ----------------------------------------------------------------


def _is_admin(request: Request) -> bool:
    return logged_in(request).holds(request.db, ADMIN)


@api_view("auth.api_keys", response=list[APIKeyOut])
def list_api_keys(request: Request) -> list[APIKey]:
    """Your API keys (administrators: everyone's)."""
    stmt = select(APIKey).order_by(APIKey.id)
    if not _is_admin(request):
        stmt = stmt.where(APIKey.user_id == logged_in(request).user.id)
    return list(request.db.scalars(stmt))


@api_view("auth.api_keys", request_method="POST", body=APIKeyIn, response=APIKeyCreated, status=201)
def create_key(request: Request, body: APIKeyIn) -> dict[str, Any]:
    """Create an API key acting as you (or, for administrators, as another user).

    The key is in the answer once and never again: only its hash is stored.
    Send it as ``X-API-Key``; it works only on paths matching ``paths``.
    """
    _refuse_api_keys(request, "create API keys")
    user = logged_in(request).user
    if body.user_id is not None and body.user_id != user.id:
        if not _is_admin(request):
            raise HTTPForbidden("only administrators create keys for other users")
        owner = request.db.get(User, body.user_id)
        if owner is None:
            raise Invalid.field("user_id", "no such user")
        user = owner
    api_key, secret = create_api_key(request.db, user, body.name, body.paths)
    return {**APIKeyOut.model_validate(api_key).model_dump(), "key": secret}


@api_view("auth.api_key", request_method="DELETE", status=204)
def revoke_key(request: Request) -> None:
    """Revoke an API key (yours, or any for administrators)."""
    api_key = request.db.get(APIKey, int(request.matchdict["id"]))
    if api_key is None or (api_key.user_id != logged_in(request).user.id and not _is_admin(request)):
        raise HTTPNotFound("no such API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()


def includeme(config: Any) -> None:
    config.add_route("auth.register", "/api/auth/register")
    config.add_route("auth.token", "/api/auth/token")
    config.add_route("auth.refresh", "/api/auth/refresh")
    config.add_route("auth.logout", "/api/auth/logout")
    config.add_route("auth.me", "/api/auth/me")
    config.add_route("auth.password", "/api/auth/password")
    config.add_route("auth.password_reset", "/api/auth/password-reset")
    config.add_route("auth.password_reset_confirm", "/api/auth/password-reset/confirm")
    config.add_route("auth.api_keys", "/api/auth/api-keys")
    config.add_route("auth.api_key", r"/api/auth/api-keys/{id:\d+}")
    config.add_route("users", "/api/users")
    config.add_route("users.directory", "/api/users/directory")
    config.add_route("user", r"/api/users/{id:\d+}")
    config.add_route("groups", "/api/groups")
    config.add_route("groups.permissions", "/api/groups/permissions")
    config.add_route("group", r"/api/groups/{id:\d+}")
    config.scan(__name__)
