"""Storage: the SQLAlchemy engine, one session per request, the declarative base.

``request.db`` is a session joined to the request's transaction (pyramid_tm):
it commits when the view returns and rolls back on an error, so a view never
commits by itself. Background tasks get the same through their own request.

Tables of a plugin are named ``<plugin>_<thing>`` (``bar_wallet``): the name
says who owns a table, and the migrations of each plugin touch only its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import zope.sqlalchemy
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import DateTime, MetaData, TextClause, create_engine, event, types
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from transaction.interfaces import NoTransaction

from .settings import Section, SettingsError, section

if TYPE_CHECKING:
    from .request import Request as PlatformRequest

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(types.TypeDecorator):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite keeps no time zone; without this a value would come back naive
    on SQLite and aware on PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one (UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DatabaseSettings(Section):
    url: str
    echo: bool = False
    pool_size: int = 10


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # "database is locked" when another writer committed in between: SQLite
    # cannot wait there. So a transaction that may write takes the write lock
    # up front (BEGIN IMMEDIATE) and writers queue; a read-only one, on the
    # engine from read_only(), stays deferred and never blocks anyone.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'IMMEDIATE')}")


class DatabaseGone(Exception):
    """The database file this process opened was deleted or replaced under it.

    Raised as the ``orig`` of an :class:`~sqlalchemy.exc.OperationalError`,
    so that it is answered (503) and reported wherever an unreachable
    database is.
    """


class SqliteFile:
    """Keeps a running process on the SQLite file it opened, and alive.

    Checked as each connection is taken for a request (a few ``stat`` calls):

    * the file deleted or replaced since it was first opened: the pool's
      connections would go on reading and writing the unlinked file (answers
      201 for writes nobody will ever see) and a new connection would create
      an empty database. Every use is refused with :class:`DatabaseGone`
      (a 503) until a restart; an empty file is only ever created by the
      first connection of a process (``pyramidion db upgrade`` on a new
      platform).
    * the ``-shm`` file (SQLite's shared index of the WAL, which every
      connection maps into memory) truncated: touching a mapped page past
      the end of a file kills the process with SIGBUS, even to close the
      connection. This process keeps a descriptor of the file it mapped,
      opened while it could write it, and gives the file back its size
      (zeroed pages, from which SQLite rebuilds the index out of the WAL).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shm = Path(f"{path}-shm")
        self.identity: tuple[int, int] | None = None
        self.shm_fd: int | None = None
        self.shm_size = 0

    def gone(self) -> str | None:
        """Why the file is not the one this process opened, or None."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return f"the database file {self.path} was deleted while the platform ran"
        if self.identity is None:
            self.identity = (found.st_dev, found.st_ino)
        elif (found.st_dev, found.st_ino) != self.identity:
            return f"the database file {self.path} was replaced while the platform ran"
        return None

    def before_use(self, _connection: Any = None) -> None:
        problem = self.gone()
        if problem is not None:
            gone = DatabaseGone(f"{problem}; restore it and restart the platform's processes")
            raise OperationalError(None, None, gone)
        self._keep_shm_size()

    def _keep_shm_size(self) -> None:
        try:
            named = os.stat(self.shm)
        except FileNotFoundError:
            return  # none yet: no connection has read since the last one closed
        fd = self.shm_fd
        held = os.fstat(fd) if fd is not None else None
        if fd is None or held is None or (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            # The first, or a new one (the last connection closing deletes it).
            if fd is not None:
                os.close(fd)
            self.shm_fd, self.shm_size = None, 0
            try:
                fd = self.shm_fd = os.open(self.shm, os.O_RDWR | os.O_CLOEXEC)
            except OSError:
                return  # not ours to write: SQLite opens it read-only itself, and writes are refused
            held = os.fstat(fd)
        if held.st_size >= self.shm_size:
            self.shm_size = held.st_size
            return
        log.warning("%s was truncated under the running process: given back its %d bytes", self.shm, self.shm_size)
        os.ftruncate(fd, self.shm_size)

    def before_connect(self, *_args: Any) -> None:
        if self.identity is not None:
            self.before_use()


def unavailable_reason(exc: Exception) -> str:
    """What a caller is told when the database refused work (``exc`` a SQLAlchemy error): gone, read-only or down.

    No file name or address: those are for the log, which has ``exc`` itself.
    """
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, DatabaseGone):
        return "the database is gone (deleted or replaced under the running platform); an operator must restore it"
    if "readonly database" in str(orig) or getattr(orig, "sqlstate", None) == READ_ONLY_SQLSTATE:
        return "the database is read-only: nothing can be saved until an operator makes it writable"
    return "the database is unavailable; try again"


READ_ONLY_SQLSTATE = "25006"  # PostgreSQL's read_only_sql_transaction: a standby, or default_transaction_read_only


def read_only(engine: Engine) -> Engine:
    """The same engine for transactions that only read (deferred BEGIN on SQLite)."""
    return engine.execution_options(sqlite_begin="DEFERRED")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _fresh_pool_after_fork(engine: Engine) -> None:
    """A forked child starts with an empty pool, never using its parent's connections.

    pserve loads the app, and the database check opens a connection, in
    gunicorn's master before it forks the workers: two processes on one
    connection would interleave their statements. ``close=False`` leaves the
    parent's connections to the parent.
    """
    engine_ref = weakref.ref(engine)  # an engine dropped later is not kept alive by this hook

    def dispose_in_child() -> None:
        forked = engine_ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=dispose_in_child)


def make_engine(settings: dict[str, Any]) -> Engine:
    engine = _make_engine(settings)
    _fresh_pool_after_fork(engine)
    return engine


def sqlite_file(url: Any) -> Path | None:
    """The file a SQLite URL opens (``sqlite:///path`` or ``sqlite:///file:path?uri=true``), or None in memory."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    if url.query.get("uri") == "true" and database.startswith("file:"):
        database = urlsplit(database).path
    return Path(database).resolve()


def _make_engine(settings: dict[str, Any]) -> Engine:
    config = section(settings, "sqlalchemy", DatabaseSettings)
    try:
        url = make_url(config.url)
    except ArgumentError:
        raise SettingsError(f"sqlalchemy.url: {config.url!r} is not a database URL") from None
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=config.echo)
        file = sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            guard = SqliteFile(file)
            event.listen(engine, "do_connect", guard.before_connect)
            event.listen(engine, "engine_connect", guard.before_use)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Hand transaction control to SQLAlchemy so BEGIN IMMEDIATE is ours.
        event.listen(engine, "connect", lambda dbapi_conn, _: setattr(dbapi_conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, echo=config.echo, pool_size=config.pool_size)
    event.listen(engine.pool, "checkin", _stamp_checkin)
    event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


# A connection that sat in the pool may have been closed by a database restart
# or a firewall; one in steady use has not. Pinging only those idle for longer
# than this spares the busy path the round trip of SQLAlchemy's pool_pre_ping
# on every request (a tenth of a PostgreSQL read). A restart in between costs
# the requests already on their connections a 503, and the pool starts afresh.
PING_IDLE_SECONDS = 10.0


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as exc:  # the driver's own error: the pool retries with a new connection
        raise DisconnectionError(f"an idle connection was found closed: {exc}") from exc


# zope.sqlalchemy's session events, listened to once per session factory
# rather than once per session (registering listeners on every request's
# session cost as much as its identity query): each transactional session
# carries its own ZopeTransactionEvents in ``session.info`` under this key,
# and sessions without one (scripts, tests) are left alone.
_TRANSACTION_EVENTS = "pyramidion.transaction_events"
# A session of a safe request joins the transaction only when it writes: a
# read-only request then costs the transaction manager nothing (no data
# manager, no two-phase commit), and its session is closed when it ends.
_JOINS_ON_WRITE = "pyramidion.joins_on_write"
_READ_EVENTS = frozenset({"after_begin", "after_attach"})


def _forward(name: str) -> Any:
    joins_on_read = name in _READ_EVENTS

    def listener(target: Any, *args: Any) -> None:
        # Bulk and ORM-execute events pass a context holding the session.
        session = target if isinstance(target, Session) else target.session
        events = session.info.get(_TRANSACTION_EVENTS)
        if events is not None and not (joins_on_read and _JOINS_ON_WRITE in session.info):
            getattr(events, name)(target, *args)

    listener.__name__ = f"_zope_{name}"
    return listener


def _statement_writes(state: Any) -> None:
    # zope.sqlalchemy counts as writes only flushes and ORM-enabled DML: an
    # INSERT, UPDATE or DELETE of a Table, or SQL as text, executed through
    # request.db (a hot path's statement built once) would leave the session
    # "without work", and the request's commit would drop it without a word.
    # Text may write, so it counts as a write.
    session = state.session
    events = session.info.get(_TRANSACTION_EVENTS)
    if events is not None and (
        state.is_insert or state.is_update or state.is_delete or isinstance(state.statement, TextClause)
    ):
        events.mark_changed(session)


_FORWARDERS = {
    **{
        name: _forward(name)
        for name in (
            "after_begin",
            "after_attach",
            "after_flush",
            "after_bulk_update",
            "after_bulk_delete",
            "before_commit",
        )
    },
    "do_orm_execute": _statement_writes,
}


_FORWARDING: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()  # factories made by session_factory


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    for name, listener in _FORWARDERS.items():
        event.listen(factory, name, listener)
    _FORWARDING.add(factory)
    return factory


def transactional_session(factory: sessionmaker[Session], transaction_manager: Any) -> Session:
    """A session that commits and rolls back with ``transaction_manager``."""
    session = factory(
        info={_TRANSACTION_EVENTS: zope.sqlalchemy.ZopeTransactionEvents(transaction_manager=transaction_manager)}
    )
    if factory not in _FORWARDING:  # a set lookup: event.contains() cost 4% of a small request
        # A factory not made by session_factory(): listen on this session alone.
        for name, listener in _FORWARDERS.items():
            event.listen(session, name, listener)
    return session


def in_request_transaction(registry: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(request, *args)`` made to run outside a web request, as if in one.

    Each call gets a request of its own (``request.db``, ``request.task``,
    ``request.realtime``) and one transaction, committed when ``fn`` returns
    and rolled back when it raises. Background tasks, the realtime backend and
    the command line run their work this way.
    """

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        # A POST, not prepare()'s default GET: the work may write, so on
        # SQLite its transaction must take the write lock up front.
        request = Request.blank("/", method="POST")
        with prepare(request=request, registry=registry) as env:
            request = env["request"]
            with request.tm:
                return fn(request, *args, **kwargs)

    return run


def includeme(config: Any) -> None:
    settings = config.get_settings()
    engine = make_engine(settings)
    factory = session_factory(engine)
    config.registry.db_engine = engine
    config.registry.db_read_engine = read_only(engine)
    config.registry.db_session_factory = factory
    # pyramid_tm would record the user in each transaction's metadata (a ZODB
    # feature, unused here) by looking the identity up in its tween, above
    # the exception views: with the database down, a logged-in request would
    # end there in a bare 500 instead of the views' 503.
    settings.setdefault("tm.annotate_user", False)
    config.include("pyramid_tm")
    config.add_request_method(request_session, "db", reify=True)


def request_session(request: PlatformRequest) -> Session:
    """``request.db``: joined to the request's transaction; read-only transactions for safe methods.

    A safe request's session joins the transaction when it writes (a flush,
    an ORM insert, update or delete), so what it writes commits with the
    request as any other; one that only reads is closed (rolled back) at the
    end, without the transaction machinery.
    """
    registry = request.registry
    session = transactional_session(registry.db_session_factory, request.tm)
    if request.method in SAFE_METHODS:
        session.bind = registry.db_read_engine
        try:
            transaction = request.tm.get()
        except NoTransaction:
            return session  # outside a request's transaction (a script): joins when first used
        session.info[_JOINS_ON_WRITE] = True
        transaction.addBeforeCommitHook(_flush_pending, (session,))  # changes made after the last flush
        request.add_finished_callback(lambda _request: session.close())
    return session


def _flush_pending(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # joins the transaction, so the changes commit with it
