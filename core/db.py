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
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zope.sqlalchemy
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import DateTime, MetaData, create_engine, event, types
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .settings import Section, SettingsError, section

if TYPE_CHECKING:
    from .request import Request as PlatformRequest

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


def _make_engine(settings: dict[str, Any]) -> Engine:
    config = section(settings, "sqlalchemy", DatabaseSettings)
    try:
        url = make_url(config.url)
    except ArgumentError:
        raise SettingsError(f"sqlalchemy.url: {config.url!r} is not a database URL") from None
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=config.echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Hand transaction control to SQLAlchemy so BEGIN IMMEDIATE is ours.
        event.listen(engine, "connect", lambda dbapi_conn, _: setattr(dbapi_conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, echo=config.echo, pool_size=config.pool_size, pool_pre_ping=True)


# zope.sqlalchemy's session events, listened to once per session factory
# rather than once per session (registering listeners on every request's
# session cost as much as its identity query): each transactional session
# carries its own ZopeTransactionEvents in ``session.info`` under this key,
# and sessions without one (scripts, tests) are left alone.
_TRANSACTION_EVENTS = "pyramidion.transaction_events"


def _forward(name: str) -> Any:
    def listener(target: Any, *args: Any) -> None:
        # Bulk and ORM-execute events pass a context holding the session.
        session = target if isinstance(target, Session) else target.session
        events = session.info.get(_TRANSACTION_EVENTS)
        if events is not None:
            getattr(events, name)(target, *args)

    listener.__name__ = f"_zope_{name}"
    return listener


_FORWARDERS = {
    name: _forward(name)
    for name in (
        "after_begin",
        "after_attach",
        "after_flush",
        "after_bulk_update",
        "after_bulk_delete",
        "before_commit",
        "do_orm_execute",
    )
}


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    for name, listener in _FORWARDERS.items():
        event.listen(factory, name, listener)
    return factory


def transactional_session(factory: sessionmaker[Session], transaction_manager: Any) -> Session:
    """A session that commits and rolls back with ``transaction_manager``."""
    session = factory(
        info={_TRANSACTION_EVENTS: zope.sqlalchemy.ZopeTransactionEvents(transaction_manager=transaction_manager)}
    )
    if not event.contains(factory, "after_begin", _FORWARDERS["after_begin"]):
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
    config.include("pyramid_tm")
    config.add_request_method(request_session, "db", reify=True)


def request_session(request: PlatformRequest) -> Session:
    """``request.db``: joined to the request's transaction; read-only transactions for safe methods."""
    registry = request.registry
    session = transactional_session(registry.db_session_factory, request.tm)
    if request.method in SAFE_METHODS:
        session.bind = registry.db_read_engine
    return session
