"""``/api/auth/*``, ``/api/users``, ``/api/groups``: identity over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..api import Invalid, Listing, Page, api_view, ensure_unique
from ..api.errors import error_response
from ..db import utcnow
from .models import APIKey, Group, GroupPermission, User
from .service import (
    RefreshRejected,
    authenticate,
    create_api_key,
    login_throttle,
    rotate,
    start_session,
)
from .service import (
    logout as logout_session,
)
from .throttle import TooManyAttempts

ADMIN = "auth.admin"


# -- schemas -----------------------------------------------------------------


class RegisterIn(BaseModel):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    email: str


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TokenPair(BaseModel):
    access: str
    refresh: str
    token_type: str = "Bearer"
    expires_in: int


class RefreshIn(BaseModel):
    refresh: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    username: str
    email: str
    is_superuser: bool
    groups: list[str]
    permissions: list[str]


class GroupRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class UserDetail(UserOut):
    is_active: bool
    is_superuser: bool
    created_at: dt.datetime
    last_login: dt.datetime | None
    groups: list[GroupRef]


class UserCreate(RegisterIn):
    is_superuser: bool = False
    groups: list[str] = []


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
    is_active: bool | None = None
    is_superuser: bool | None = None
    groups: list[str] | None = None


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=150)
    description: str = Field("", max_length=500)
    permissions: list[str] = []


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = Field(None, max_length=500)
    permissions: list[str] | None = None


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    permissions: list[str]


class APIKeyIn(BaseModel):
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


class APIKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
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


# -- login and tokens --------------------------------------------------------


@api_view(
    "auth.register",
    request_method="POST",
    body=RegisterIn,
    response=UserOut,
    status=201,
    permission=NO_PERMISSION_REQUIRED,
    responses={409: "Username or email taken"},
)
def register(request: Any, body: RegisterIn) -> User:
    """Create an account."""
    if not request.registry.auth_settings.registration_open:
        raise HTTPForbidden("registration is closed")
    ensure_unique(request.db, User.username, body.username)
    ensure_unique(request.db, User.email, body.email)
    user = User(username=body.username, email=body.email, password_hash=request.registry.passwords.hash(body.password))
    request.db.add(user)
    request.db.flush()
    return user


@api_view(
    "auth.token",
    request_method="POST",
    body=Credentials,
    form=True,
    response=TokenPair,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Wrong username or password", 429: "Too many failed logins"},
)
def token(request: Any, body: Credentials) -> Any:
    """Log in: exchange a username and password for an access and a refresh token."""
    throttle = login_throttle(request)
    try:
        throttle.check(request.db, body.username, request.client_addr)
    except TooManyAttempts as exc:
        return error_response(429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    user = authenticate(request, body.username, body.password)
    if user is None:
        # Returned, not raised, so the failed attempt is committed and counts.
        throttle.record(request.db, body.username, request.client_addr)
        return error_response(401, "wrong username or password", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    return start_session(request, user)


@api_view(
    "auth.refresh",
    request_method="POST",
    body=RefreshIn,
    response=TokenPair,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Refresh token unknown, used, expired or revoked"},
)
def refresh(request: Any, body: RefreshIn) -> Any:
    """Rotate a refresh token: the old one is spent; using it again revokes the session."""
    try:
        return rotate(request, body.refresh)
    except RefreshRejected as exc:
        # Returned, not raised: a revocation for reuse must be committed.
        return error_response(401, f"refresh rejected: {exc}", headers={"WWW-Authenticate": 'Bearer realm="api"'})


@api_view("auth.logout", request_method="POST", body=RefreshIn, status=204, permission=NO_PERMISSION_REQUIRED)
def logout(request: Any, body: RefreshIn) -> None:
    """Revoke the session of a refresh token, and with it every token of that login."""
    logout_session(request, body.refresh)


@api_view("auth.me", response=Me)
def me(request: Any) -> dict[str, Any]:
    """Who am I: the calling user with groups, permissions and what plugins add."""
    identity = request.identity
    user = identity.user
    permissions = (
        sorted(request.registry.permissions) if user.is_superuser else sorted(identity.permissions(request.db))
    )
    result: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "is_superuser": user.is_superuser,
        "groups": [group.name for group in user.groups],
        "permissions": permissions,
    }
    for extra in request.registry.pm.hook.pyramidion_me(request=request, user=user):
        result.update(extra or {})
    return result


# -- users -------------------------------------------------------------------

users_listing = Listing(
    key=User.id,
    ordering={"id": User.id, "username": User.username, "created_at": User.created_at},
    default_ordering="username",
    search=[User.username, User.email],
)


def _groups_by_name(db: Any, names: list[str]) -> list[Group]:
    groups = list(db.scalars(select(Group).where(Group.name.in_(names)))) if names else []
    missing = sorted(set(names) - {g.name for g in groups})
    if missing:
        raise Invalid.field("groups", f"no such group(s): {', '.join(missing)}")
    return groups


def _user(request: Any) -> User:
    user = request.db.get(User, int(request.matchdict["id"]), options=[selectinload(User.groups)])
    if user is None:
        raise HTTPNotFound("no such user")
    return user


@api_view("users", query=users_listing, response=Page[UserDetail], permission=ADMIN)
def list_users(request: Any, query: Any) -> dict[str, Any]:
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
def create_user(request: Any, body: UserCreate) -> User:
    """Create a user (administrators)."""
    ensure_unique(request.db, User.username, body.username)
    ensure_unique(request.db, User.email, body.email)
    user = User(
        username=body.username,
        email=body.email,
        password_hash=request.registry.passwords.hash(body.password),
        is_superuser=body.is_superuser,
        groups=_groups_by_name(request.db, body.groups),
    )
    request.db.add(user)
    request.db.flush()
    return user


@api_view("user", response=UserDetail, permission=ADMIN)
def get_user(request: Any) -> User:
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
def update_user(request: Any, body: UserUpdate) -> User:
    """Change a user: email, password, active flag, superuser flag, groups (administrators)."""
    user = _user(request)
    if body.email is not None:
        ensure_unique(request.db, User.email, body.email, exclude=user.id)
    if body.email is not None:
        user.email = body.email
    if body.password is not None:
        user.password_hash = request.registry.passwords.hash(body.password)
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.is_superuser is not None:
        user.is_superuser = body.is_superuser
    if body.groups is not None:
        user.groups = _groups_by_name(request.db, body.groups)
    request.db.flush()
    return user


@api_view("user", request_method="DELETE", status=204, permission=ADMIN)
def delete_user(request: Any) -> None:
    """Delete a user (administrators). Prefer deactivating: records keep their author."""
    user = _user(request)
    if user.id == request.identity.user.id:
        raise Invalid("you cannot delete yourself")
    request.db.delete(user)


# -- groups ------------------------------------------------------------------


def _check_permissions(request: Any, names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(request.registry.permissions))
    if unknown:
        raise Invalid.field("permissions", f"unknown permission(s): {', '.join(unknown)}")
    return sorted(set(names))


def _group(request: Any) -> Group:
    group = request.db.get(Group, int(request.matchdict["id"]))
    if group is None:
        raise HTTPNotFound("no such group")
    return group


@api_view("groups", response=list[GroupOut], permission=ADMIN)
def list_groups(request: Any) -> list[Group]:
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
def create_group(request: Any, body: GroupIn) -> Group:
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
def get_group(request: Any) -> Group:
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
def update_group(request: Any, body: GroupUpdate) -> Group:
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
def delete_group(request: Any) -> None:
    """Delete a group (administrators)."""
    request.db.delete(_group(request))


@api_view("groups.permissions", response=dict[str, str], permission=ADMIN)
def list_permissions(request: Any) -> dict[str, str]:
    """Every permission the core and the loaded plugins define, with what it allows."""
    return request.registry.permissions


# -- API keys ----------------------------------------------------------------


def _is_admin(request: Any) -> bool:
    user = request.identity.user
    return user.is_superuser or ADMIN in request.identity.permissions(request.db)


@api_view("auth.api_keys", response=list[APIKeyOut])
def list_api_keys(request: Any) -> list[APIKey]:
    """Your API keys (administrators: everyone's)."""
    stmt = select(APIKey).order_by(APIKey.id)
    if not _is_admin(request):
        stmt = stmt.where(APIKey.user_id == request.identity.user.id)
    return list(request.db.scalars(stmt))


@api_view("auth.api_keys", request_method="POST", body=APIKeyIn, response=APIKeyCreated, status=201)
def create_key(request: Any, body: APIKeyIn) -> dict[str, Any]:
    """Create an API key acting as you (or, for administrators, as another user).

    The key is in the answer once and never again: only its hash is stored.
    Send it as ``X-API-Key``; it works only on paths matching ``paths``.
    """
    if request.identity.via == "api_key":
        raise HTTPForbidden("an API key cannot create API keys")
    user = request.identity.user
    if body.user_id is not None and body.user_id != user.id:
        if not _is_admin(request):
            raise HTTPForbidden("only administrators create keys for other users")
        user = request.db.get(User, body.user_id)
        if user is None:
            raise Invalid.field("user_id", "no such user")
    api_key, secret = create_api_key(request.db, user, body.name, body.paths)
    return {**APIKeyOut.model_validate(api_key).model_dump(), "key": secret}


@api_view("auth.api_key", request_method="DELETE", status=204)
def revoke_key(request: Any) -> None:
    """Revoke an API key (yours, or any for administrators)."""
    api_key = request.db.get(APIKey, int(request.matchdict["id"]))
    if api_key is None or (api_key.user_id != request.identity.user.id and not _is_admin(request)):
        raise HTTPNotFound("no such API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()


def includeme(config: Any) -> None:
    config.add_route("auth.register", "/api/auth/register")
    config.add_route("auth.token", "/api/auth/token")
    config.add_route("auth.refresh", "/api/auth/refresh")
    config.add_route("auth.logout", "/api/auth/logout")
    config.add_route("auth.me", "/api/auth/me")
    config.add_route("auth.api_keys", "/api/auth/api-keys")
    config.add_route("auth.api_key", r"/api/auth/api-keys/{id:\d+}")
    config.add_route("users", "/api/users")
    config.add_route("user", r"/api/users/{id:\d+}")
    config.add_route("groups", "/api/groups")
    config.add_route("groups.permissions", "/api/groups/permissions")
    config.add_route("group", r"/api/groups/{id:\d+}")
    config.scan(__name__)
