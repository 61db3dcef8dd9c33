"""The security policy: who is calling, and may they.

Identity comes from ``Authorization: Bearer <access token>``, from an API
key in ``X-API-Key``, or (when the console is enabled) from the console's
session cookie (:class:`SessionCookie`). Either way ``request.identity`` is an
:class:`Identity` with the :class:`~pyramidion.auth.models.User`, or ``None``
for anonymous.

The cookie names a row of ``auth_session``, the table token logins use, so
logging out, deactivating the user or revoking their sessions ends console
logins as it ends tokens. A request authenticated by the cookie that changes
something (any method but GET, HEAD, OPTIONS) must carry the session's CSRF
token (form field ``csrf_token`` or header ``X-CSRF-Token``): without it every
permission check is denied, so the answer is a 403.

Views declare a permission:

* ``"authenticated"`` (:data:`pyramidion.api.AUTHENTICATED`, the API default):
  any logged-in user;
* a permission name (``"bar.sell"``): users holding it through a group;
* on a context with an ``__acl__``, Pyramid's ACLs decide, with the principals
  ``system.Authenticated``, ``user:<id>``, ``group:<name>`` and ``perm:<name>``,
  so a plugin expresses owner and shared-with rules as ACEs.

Superusers pass every check. An API key passes only on paths matching one of
its patterns.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import hmac
import time
from typing import Any

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import RequestLocalCache
from pyramid.security import Allowed, Denied
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..db import utcnow
from ..request import Request
from .cache import REVISION_NEUTRAL, IdentityCache, Known
from .models import APIKey, Group, GroupPermission, Session, User, UserGroup
from .secrets import secret_matches
from .tokens import InvalidToken

AUTHENTICATED = "authenticated"
LAST_USED_PRECISION = dt.timedelta(minutes=1)
API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Identity:
    """``request.identity``: the user calling, and how (``via``: ``"token"``, ``"api_key"`` or ``"cookie"``).

    ``user_id`` and ``is_superuser`` cost nothing. ``user`` is the user's row
    in the request's session; an identity from the process's cache
    (:mod:`.cache`) attaches it there on first use, without a query.
    ``session_id`` is the login (``auth_session``) of a token or a cookie,
    ``login_started`` when that login began; ``known`` the process's cached
    copy of it (:class:`.cache.Known`), if the cache keeps one.
    """

    def __init__(
        self,
        user: User | None = None,
        via: str = "token",
        api_key: APIKey | None = None,
        session_id: str | None = None,
        *,
        known: Known | None = None,
        request: Request | None = None,
        login_started: dt.datetime | None = None,
    ) -> None:
        source: Any = user if user is not None else known
        self.user_id: int = source.id if user is not None else source.user_id
        self.is_superuser: bool = source.is_superuser
        self.via = via
        self.api_key = api_key
        self.session_id = session_id
        self.login_started = known.started if known is not None else login_started
        self._user = user
        self.known = known
        self._request = request
        self._permissions = known.permissions if known is not None else None
        self._groups = known.groups if known is not None else None

    def __repr__(self) -> str:
        return f"<Identity user {self.user_id} via {self.via}>"

    @property
    def user(self) -> User:
        if self._user is None:
            assert self.known is not None and self._request is not None
            self._user = self.known.user_in(self._request.db)
        return self._user

    @property
    def profile(self) -> User:
        """The user's columns to read (never to change or to relate to): ``user``, or the cache's detached copy."""
        if self._user is None and self.known is not None:
            return self.known.profile
        return self.user

    def permissions(self, db: Any) -> frozenset[str]:
        if self._permissions is None:
            self._permissions, self._groups = _permissions_and_groups(db, self.user)
        return self._permissions

    def group_names(self, db: Any) -> tuple[str, ...]:
        """The names of the user's groups, in order."""
        if self._groups is None:
            self.permissions(db)
        assert self._groups is not None
        return self._groups

    def holds(self, db: Any, permission: str) -> bool:
        """Whether the user holds ``permission`` through a group; a superuser holds every one."""
        return self.is_superuser or permission in self.permissions(db)


def logged_in(request: Request) -> Identity:
    """The identity of a request whose view requires a login (its permission saw to it)."""
    identity: Identity | None = request.identity
    if identity is None:
        raise HTTPForbidden("log in first")
    return identity


# Statements run on every request are built once: building one and deriving
# its cache key cost about as much as running it.
_PERMISSIONS_OF_USER = (
    select(GroupPermission.permission)
    .join(UserGroup, UserGroup.group_id == GroupPermission.group_id)
    .where(UserGroup.user_id == bindparam("user_id"))
)
_GROUPS_OF_USER_WITH_PERMISSIONS = (
    select(Group, GroupPermission.permission)
    .join(UserGroup, UserGroup.group_id == Group.id)
    .outerjoin(GroupPermission, GroupPermission.group_id == Group.id)
    .where(UserGroup.user_id == bindparam("user_id"))
    .order_by(Group.name)  # as User.groups is ordered
)
_USER_OF_SESSION = (
    select(User, Session.revoked_at, Session.created_at)
    .join(Session, Session.user_id == User.id)
    .where(User.id == bindparam("user_id"), Session.id == bindparam("session_id"))
)


def user_permissions(db: Any, user_id: int) -> frozenset[str]:
    return frozenset(db.scalars(_PERMISSIONS_OF_USER, {"user_id": user_id}))


def _permissions_and_groups(db: Any, user: User) -> tuple[frozenset[str], tuple[str, ...]]:
    """The permissions and group names of ``user``; ``user.groups`` comes with them, in the same query, if not loaded yet."""
    rows = db.execute(_GROUPS_OF_USER_WITH_PERMISSIONS, {"user_id": user.id}).all()
    groups = list(dict.fromkeys(group for group, _ in rows))
    if "groups" in inspect(user).unloaded:
        set_committed_value(user, "groups", groups)
    permissions = frozenset(permission for _, permission in rows if permission is not None)
    return permissions, tuple(group.name for group in groups)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def user_for_access_token(request: Request, token: str) -> User | None:
    """The active user of a valid access token whose session is not revoked."""
    return user_for_token(request, token, "access")


def user_for_token(request: Request, token: str, kind: str) -> User | None:
    """The active user of a valid token of ``kind`` (``typ``) whose session (``sid``) is not revoked."""
    try:
        claims = request.registry.token_codec.decode(token, kind)
        user_id = int(claims["sub"])
    except (InvalidToken, ValueError):
        return None
    found = _user_of_session(request, user_id, claims.get("sid"))
    return found[0] if found is not None else None


def _user_of_session(request: Request, user_id: int, session_id: str | None) -> tuple[User, dt.datetime] | None:
    """The active user of a session that is not revoked, and when the session began."""
    row = request.db.execute(_USER_OF_SESSION, {"user_id": user_id, "session_id": session_id}).first()
    if row is None:
        return None
    user, revoked_at, started = row
    if revoked_at is not None or not user.is_active:
        return None
    return user, started


def _access_claims(request: Request, token: str) -> tuple[int, str | None] | None:
    """``(user id, session id)`` of a valid access token; its signature is checked once per process."""
    cache: IdentityCache = request.registry.identity_cache
    known = cache.claims(token)
    if known is not None and time.time() < known[2]:
        return known[0], known[1]
    codec = request.registry.token_codec
    try:
        claims = codec.decode(token, "access")
        user_id = int(claims["sub"])
    except (InvalidToken, ValueError):
        return None
    session_id = claims.get("sid")
    cache.remember_claims(token, user_id, session_id, claims["exp"] + codec.config.leeway)
    return user_id, session_id


def _login_identity(request: Request, user_id: int, session_id: str | None, via: str) -> Identity | None:
    """The identity of a login (token or cookie) that is not revoked, of an active user."""
    cache: IdentityCache = request.registry.identity_cache
    key = ("login", user_id, session_id)
    known = cache.known(key)
    if known is not None:
        return Identity(via=via, session_id=session_id, known=known, request=request)
    # A transaction begun before the revision was read may see an older state: not kept then.
    cacheable = cache.enabled and not request.db.in_transaction()
    found = _user_of_session(request, user_id, session_id)
    if found is None:
        return None
    user, started = found
    if not cacheable:
        return Identity(user=user, via=via, session_id=session_id, login_started=started)
    known = _known(request.db, user, started)
    cache.remember(key, known)
    return Identity(user=user, via=via, session_id=session_id, known=known)


def _known(db: Any, user: User, started: dt.datetime | None = None, api_key: APIKey | None = None) -> Known:
    permissions, groups = _permissions_and_groups(db, user)
    return Known(user, groups, permissions, started, api_key)


def _api_key_identity(request: Request, key: str) -> Identity | None:
    cache: IdentityCache = request.registry.identity_cache
    cache_key = ("api_key", key)
    known = cache.known(cache_key)
    if known is not None:
        identity = Identity(via="api_key", api_key=known.api_key, known=known, request=request)
    else:
        cacheable = cache.enabled and not request.db.in_transaction()
        prefix, _, _ = key.partition(".")
        api_key = request.db.scalar(
            select(APIKey)
            .options(selectinload(APIKey.user))
            .where(APIKey.prefix == prefix, APIKey.revoked_at.is_(None))
        )
        if api_key is None or not secret_matches(key, api_key.key_hash):
            return None
        if not api_key.user.is_active:
            return None
        known = _known(request.db, api_key.user, api_key=api_key)
        if cacheable:
            cache.remember(cache_key, known)  # also where last_used_at is tracked, so always made
        identity = Identity(user=api_key.user, via="api_key", api_key=api_key, known=known)
    now = utcnow()
    # Recorded at most once a minute: a write on every request would make
    # reads contend for the database's write lock.
    if known.last_used_at is None or now - known.last_used_at > LAST_USED_PRECISION:
        assert known.api_key is not None
        request.db.execute(
            update(APIKey)
            .where(APIKey.id == known.api_key.id)
            .values(last_used_at=now)
            .execution_options(**REVISION_NEUTRAL)
        )
        known.last_used_at = now
    return identity


class SessionCookie:
    """The console's credential: a signed cookie naming a row of ``auth_session``.

    The value is ``<user id>.<session id>.<signature>``; the signature (an
    HMAC under a key derived from ``jwt.secret``) is what makes it
    unforgeable, so a session id read from an access token cannot be turned
    into a cookie. The CSRF token is another HMAC of the session id: nothing
    to store, and it changes with every login.

    ``max_age`` bounds a console login (seconds since the session began);
    ``secure`` is ``"auto"`` (Secure when the request came over https, as
    seen through the proxy), ``True`` or ``False``.
    """

    name = "pyramidion_console"

    def __init__(self, secret: str, max_age: int, secure: bool | str = "auto", samesite: str = "Lax") -> None:
        self._key = hmac.new(secret.encode(), b"pyramidion console session", hashlib.sha256).digest()
        self.max_age = max_age
        self.secure = secure
        self.samesite = samesite

    def _sign(self, *parts: str) -> str:
        return hmac.new(self._key, ".".join(parts).encode(), hashlib.sha256).hexdigest()

    def value(self, user_id: int, session_id: str) -> str:
        return f"{user_id}.{session_id}.{self._sign('session', str(user_id), session_id)}"

    def read(self, request: Request) -> tuple[int, str] | None:
        """``(user id, session id)`` of a well-signed cookie, else None."""
        user_id, _, rest = (request.cookies.get(self.name) or "").partition(".")
        session_id, _, signature = rest.partition(".")
        if not (user_id.isdigit() and session_id and signature):
            return None
        if not hmac.compare_digest(signature, self._sign("session", user_id, session_id)):
            return None
        return int(user_id), session_id

    def csrf_token(self, session_id: str) -> str:
        return self._sign("csrf", session_id)

    def csrf_ok(self, request: Request, session_id: str) -> bool:
        supplied = request.headers.get(CSRF_HEADER) or _form_field(request, CSRF_FIELD) or ""
        return hmac.compare_digest(supplied, self.csrf_token(session_id))

    def _secure(self, request: Request) -> bool:
        return request.scheme == "https" if self.secure == "auto" else bool(self.secure)

    def set(self, request: Request, response: Any, user_id: int, session_id: str) -> None:
        response.set_cookie(
            self.name,
            self.value(user_id, session_id),
            max_age=self.max_age,
            path="/",
            secure=self._secure(request),
            httponly=True,
            samesite=self.samesite,
        )

    def clear(self, request: Request, response: Any) -> None:
        response.delete_cookie(self.name, path="/")

    def identity(self, request: Request) -> Identity | None:
        found = self.read(request)
        if found is None:
            return None
        user_id, session_id = found
        identity = _login_identity(request, user_id, session_id, "cookie")
        if identity is None or identity.login_started is None:
            return None
        if utcnow() - identity.login_started > dt.timedelta(seconds=self.max_age):
            return None
        return identity


def _form_field(request: Request, name: str) -> str | None:
    # Only a form body has fields; reading request.POST of a JSON body would not parse it anyway.
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.POST.get(name)
    return None


def csrf_failed(request: Request, identity: Identity) -> bool:
    """Whether a cookie-authenticated unsafe request lacks its CSRF token."""
    if identity.via != "cookie" or request.method in SAFE_METHODS:
        return False
    return not request.registry.session_cookie.csrf_ok(request, identity.session_id)


def path_allowed(api_key: APIKey, path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in api_key.paths)


class SecurityPolicy:
    def __init__(self) -> None:
        self.acl = ACLHelper()
        self._identities = RequestLocalCache()

    def identity(self, request: Request) -> Identity | None:
        # Pyramid asks for the identity several times a request (the
        # permission check, pyramid_tm, the view): look it up once.
        return self._identities.get_or_create(request, self._load_identity)

    def _load_identity(self, request: Request) -> Identity | None:
        token = _bearer(request)
        if token is not None:
            claims = _access_claims(request, token)
            return _login_identity(request, *claims, "token") if claims is not None else None
        key = request.headers.get(API_KEY_HEADER)
        if key:
            return _api_key_identity(request, key)
        cookie = getattr(request.registry, "session_cookie", None)  # set when the console is enabled
        if cookie is not None and cookie.name in request.cookies:
            return cookie.identity(request)
        return None

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.identity
        return str(identity.user_id) if identity is not None else None

    def principals(self, request: Request, identity: Identity) -> list[str]:
        permissions = identity.permissions(request.db)  # first: it loads the groups too
        principals = [Everyone, Authenticated, f"user:{identity.user_id}"]
        principals += [f"group:{name}" for name in identity.group_names(request.db)]
        principals += [f"perm:{name}" for name in permissions]
        return principals

    def permits(self, request: Request, context: Any, permission: str) -> Any:
        identity = request.identity
        if identity is None:
            return Denied("authentication required")
        if identity.api_key is not None and not path_allowed(identity.api_key, request.path):
            return Denied("this API key is not valid for this path")
        if csrf_failed(request, identity):
            return Denied("the CSRF token is missing or wrong; reload the page and try again")
        if identity.is_superuser:
            return Allowed("superuser")
        if permission == AUTHENTICATED:
            return Allowed("authenticated")
        if getattr(context, "__acl__", None) is not None:
            return self.acl.permits(context, self.principals(request, identity), permission)
        if permission in identity.permissions(request.db):
            return Allowed(f"holds {permission}")
        return Denied(f"requires the permission {permission!r}")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list:
        return []  # tokens are handed out by the token endpoint, not by headers

    def forget(self, request: Request, **kw: Any) -> list:
        return []
