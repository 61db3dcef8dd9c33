"""Identities cached per process, kept right across processes by one shared revision.

Checking a JWT's signature and reading the user, the login (``auth_session``)
and the permissions from the database cost more than the rest of a small
request together. So each web process keeps what it verified, per credential:

* a token's claims (``sub``, ``sid``, ``exp``), so its signature is checked
  once; its expiry is still checked on every request;
* per login (user id and session id) or API key, a :class:`Known`: a detached
  copy of the user's row (without the password hash and last login, which load
  from the database when read), their groups and permissions, when the login
  began, and the key.

**How stale it may be: ``auth.identity_cache_seconds`` (default 1 s).** Every
write that changes who may do what changes the single row of
``auth_revision`` in the same transaction (:func:`watch`): an UPDATE or DELETE
of a user, group, login or API key, a user joining or leaving a group, a
group's permissions. A process reads that row at most once per interval,
before using anything it cached, and forgets everything when it changed. So a
logout, deactivation, password change, group or permission change or key
revocation committed in one process is refused by every other process within
the interval (plus the time of one read), and at once by every app of the
process that made it (its commit clears their caches). ``0`` turns the cache off: every
request reads the database, as before.

**Answers kept per identity** (:meth:`Known.answer`): ``GET /api/auth/me``
with what plugins add to it (a wallet's balance, the robots connected) is
rendered once and kept with the identity for the same interval. This process
drops every kept answer as soon as it commits a transaction, so a change made
here shows at once; another process's change shows within the interval.

What does not change the revision: a new login or user (nothing cached names
it yet), the last-login stamp and an API key's last use (written with
:data:`REVISION_NEUTRAL`). The revision is a random number rather than a
counter, so a deleted row (a wiped test database) can never come back with a
value a process already knows. Writes made around the app's engine (raw SQL
through another engine) are seen after the next change or a restart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Delete, Insert, Update, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class

from ..db import read_only
from .models import APIKey, Revision, User

# The execution option of a write to a watched table that changes nothing a cached identity holds.
NEUTRAL = "pyramidion.auth.revision_neutral"
REVISION_NEUTRAL = {NEUTRAL: True}

# Tables whose UPDATE or DELETE may end or narrow someone's access.
WATCHED = frozenset(
    {"auth_user", "auth_group", "auth_user_group", "auth_group_permission", "auth_session", "auth_api_key"}
)
# Tables whose INSERT may widen someone's access (a membership, a grant).
WATCHED_INSERTS = frozenset({"auth_user_group", "auth_group_permission"})
# Read from the database when needed, never kept: secret, or changed by every login.
NOT_KEPT = ("password_hash", "last_login")
MAX_ENTRIES = 10_000  # past this the cache starts over: a bound on memory, not a policy

_CHANGED = "pyramidion.auth.revision_changed"  # on a connection whose transaction changed the revision
_BUMP = text("INSERT INTO auth_revision (id, value) VALUES (1, :value) ON CONFLICT (id) DO UPDATE SET value = :value")
_READ = select(Revision.value).where(Revision.id == 1)
_CACHES: weakref.WeakSet[IdentityCache] = weakref.WeakSet()  # every app's in this process


class Known:
    """What a process verified about a credential: the user's row, groups, permissions, the login's start."""

    __slots__ = (
        "_answers",
        "_key",
        "api_key",
        "groups",
        "last_used_at",
        "permissions",
        "profile",
        "started",
        "values",
    )

    def __init__(
        self,
        user: User,
        groups: tuple[str, ...],
        permissions: frozenset[str],
        started: dt.datetime | None = None,
        api_key: APIKey | None = None,
    ) -> None:
        self.values = {key: getattr(user, key) for key in _kept_columns(User)}
        self._key = inspect(user).key
        # The same values as a detached user, only ever read (``Identity.profile``): no session needed.
        self.profile: User = detached_copy(user)
        self.groups = groups
        self.permissions = permissions
        self.started = started
        self.api_key = detached_copy(api_key) if api_key is not None else None
        self.last_used_at = api_key.last_used_at if api_key is not None else None
        self._answers: dict[str, tuple[int, float, bytes]] = {}  # name: (commits so far, kept until, body)

    @property
    def user_id(self) -> int:
        return self.values["id"]

    @property
    def is_superuser(self) -> bool:
        return self.values["is_superuser"]

    def user_in(self, db: Any) -> User:
        """The user as a row of session ``db``: the instance already there, or one made from the copy, without a query."""
        existing = db.identity_map.get(self._key)
        if existing is not None:
            return existing
        user: User = _USER_MANAGER.new_instance()
        user.__dict__.update(self.values)  # immutable values: shared by every request safely
        make_transient_to_detached(user)  # the columns left out load from the database when read
        db.add(user)  # persistent, as if loaded; half the cost of Session.merge
        return user

    def answer(self, name: str, render: Callable[[], bytes], lifetime: float) -> bytes:
        """``render()``, kept under ``name`` for ``lifetime`` seconds or until this process commits."""
        now = time.monotonic()
        kept = self._answers.get(name)
        if kept is not None and kept[0] == _COMMITS.count and now < kept[1]:
            return kept[2]
        committed = _COMMITS.count  # read before rendering: a commit meanwhile makes the body stale
        body = render()
        self._answers[name] = (committed, now + lifetime, body)
        return body


class _Commits:
    """How many transactions this process has committed through the engines it watches.

    Every commit counts, not only the writes a statement's type reveals (text
    SQL writes too): safe requests that only read never commit."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


_COMMITS = _Commits()


_USER_MANAGER = manager_of_class(User)
_KEPT: dict[type, tuple[str, ...]] = {}


def _kept_columns(model: type) -> tuple[str, ...]:
    if model not in _KEPT:
        mapper: Mapper[Any] = inspect(model)
        _KEPT[model] = tuple(attr.key for attr in mapper.column_attrs if attr.key not in NOT_KEPT)
    return _KEPT[model]


def detached_copy(obj: Any) -> Any:
    """A detached instance with ``obj``'s column values (but :data:`NOT_KEPT`), belonging to no session."""
    model = type(obj)
    copy = model(**{key: getattr(obj, key) for key in _kept_columns(model)})
    make_transient_to_detached(copy)
    return copy


class IdentityCache:
    """Verified tokens and :class:`Known` identities of one app, valid while the revision stays the same."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = read_only(engine)  # the check never takes SQLite's write lock
        self.interval = interval
        self.enabled = interval > 0
        self._claims: dict[str, tuple[int, str | None, float]] = {}
        self._known: dict[Any, Known] = {}
        self._revision: int | None = None
        self._next_check = 0.0  # time.monotonic() when the revision is read again
        self._lock = threading.Lock()
        _CACHES.add(self)
        watch(engine)

    def claims(self, token: str) -> tuple[int, str | None, float] | None:
        """``(user id, session id, expiry)`` of a token verified before, or None."""
        return self._claims.get(token) if self.enabled else None

    def remember_claims(self, token: str, user_id: int, session_id: str | None, expires: float) -> None:
        if self.enabled:
            self._bounded(self._claims)[token] = (user_id, session_id, expires)

    def known(self, key: Any) -> Known | None:
        if not self.enabled:
            return None
        self._check_revision()
        return self._known.get(key)

    def remember(self, key: Any, known: Known) -> None:
        # Stamped by the revision read before the database was: a change
        # committed in between is seen at the next read, which forgets this.
        if self.enabled:
            self._bounded(self._known)[key] = known

    def answer(self, identity: Any, name: str, render: Callable[[], bytes]) -> bytes:
        """``render()`` for ``identity``, kept with its cached copy under ``name`` (:meth:`Known.answer`)."""
        if identity.known is None or not self.enabled:
            return render()
        return identity.known.answer(name, render, self.interval)

    def forget(self) -> None:
        """Drop every identity and read the revision again before the next use."""
        self._known.clear()
        self._next_check = 0.0

    def _bounded(self, entries: dict[Any, Any]) -> dict[Any, Any]:
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        return entries

    def _check_revision(self) -> None:
        if time.monotonic() < self._next_check:
            return
        with self._lock:
            started = time.monotonic()
            if started < self._next_check:
                return  # another thread just read it
            with self.engine.connect() as conn:
                revision = conn.execute(_READ).scalar()
            if revision != self._revision:
                self._known.clear()
                self._revision = revision
            self._next_check = started + self.interval


def watch(engine: Engine) -> None:
    """Change the revision with every write to ``engine`` that may change someone's access."""

    def after_execute(conn: Any, statement: Any, *args: Any) -> None:
        if not isinstance(statement, (Update, Delete, Insert)):
            return
        table = getattr(statement.table, "name", None)
        watched = WATCHED_INSERTS if isinstance(statement, Insert) else WATCHED
        if table not in watched or statement.get_execution_options().get(NEUTRAL):
            return
        conn.execute(_BUMP, {"value": secrets.randbits(62)})
        conn.info[_CHANGED] = True

    def commit(conn: Any) -> None:
        _COMMITS.add()  # any transaction committed may have changed what a kept answer says
        if conn.info.pop(_CHANGED, False):
            # Every app of this process knows at once; other processes at their next read.
            for cache in list(_CACHES):
                cache.forget()

    def rollback(conn: Any) -> None:
        if conn.invalidated:  # the connection was lost (its info with it): nothing to forget
            return
        conn.info.pop(_CHANGED, None)

    event.listen(engine, "after_execute", after_execute)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
