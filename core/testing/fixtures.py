"""The platform under test: a real database, a real app, users and their tokens, the queue.

A pytest plugin (entry point ``pyramidion`` in the group ``pytest11``).

The database is SQLite (a file per xdist worker) unless
``PYRAMIDION_TEST_DATABASE_URL`` names a PostgreSQL server, in which case each
worker gets a database of its own there, dropped at the end. It is migrated
once per test process, the core and every plugin installed. Every test starts
from empty tables: data is committed for real (so after-commit hooks,
background tasks and concurrent transactions behave as in production) and
wiped after the test.

Tasks run at once, in process (``huey.url = immediate``), unless a test asks
for a queue (:func:`run_tasks` with ``huey__url="memory"``, :func:`worker`).
``PYRAMIDION_TEST_REDIS_URL`` names the Redis server :func:`worker` uses;
without it the worker's queue is a SQLite file.

``PYRAMIDION_TEST_PLUGINS="tasks rentals"`` loads only those plugins.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
from sqlalchemy import create_engine, inspect, make_url, text
from webtest import TestApp

from .. import make_config, migrations
from ..auth.models import Group, GroupPermission, User
from ..auth.models import Session as AuthSession
from ..db import Base, transactional_session
from .mail import mailbox  # noqa: F401  (a fixture this plugin offers)

JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
TEST_PASSWORD = "password123"  # make_user's default


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers the kit's fixtures and the platform's tests use."""
    config.addinivalue_line("markers", "router: needs the Crossbar router environment (pyramidion router install)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


# -- the database and the app --------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of this test process's own database (created here, dropped at the end on PostgreSQL)."""
    server = os.environ.get("PYRAMIDION_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    url = make_url(server)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # Unique per process: parallel runs on one server must not drop each other's database.
    name = f"pyramidion_test_{_worker()}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def base_settings(database_url: str) -> dict[str, Any]:
    """Settings of the test app; ``PYRAMIDION_TEST_PLUGINS="tasks rentals"`` loads only those plugins."""
    return {
        "pyramidion.plugins.enabled": os.environ.get("PYRAMIDION_TEST_PLUGINS", ""),
        "sqlalchemy.url": database_url,
        "huey.url": "immediate",
        "huey.name": f"pyramidion-test-{_worker()}-{uuid.uuid4().hex[:6]}",
        "jwt.secret": JWT_SECRET,
        "auth.password_time_cost": "1",
        "auth.password_memory_cost": "64",
        "realtime.port": "1",  # nothing listens: publishing fails fast unless a test starts a router
        "realtime.publish_timeout": "0.5",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }


@pytest.fixture(scope="session")
def _config(base_settings: dict[str, Any]) -> Any:
    config = make_config(dict(base_settings))
    migrations.upgrade(config.registry)
    return config


@pytest.fixture(scope="session")
def _wsgi(_config: Any) -> Any:
    return _config.make_wsgi_app()


@pytest.fixture
def registry(_config: Any) -> Any:
    """The Pyramid registry of the test app: ``settings``, ``huey``, ``pm``, ``db_engine``..."""
    return _config.registry


def _wipe(engine: Any) -> None:
    existing = set(inspect(engine).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "_config" in request.fixturenames:
        _wipe(request.getfixturevalue("_config").registry.db_engine)


@pytest.fixture
def app(_wsgi: Any) -> TestApp:
    """A WebTest app over the platform with every installed plugin."""
    return TestApp(_wsgi)


@pytest.fixture
def make_app(base_settings: dict[str, Any], _config: Any) -> Iterator[Callable[..., TestApp]]:
    """``make_app(extra_plugins=(), migrate=False, **settings)``: another app over the same database.

    Settings are given with ``__`` for dots (``huey__url="memory"``).
    ``extra_plugins`` are ``(name, plugin)`` pairs registered for this app
    only, as if installed: a plugin written inside a test. ``migrate=True``
    runs their migrations too (their tables are wiped after the test like any).
    The app's registry is ``app.app.registry``.
    """
    engines = []

    def build(extra_plugins: Iterable[tuple[str, Any]] = (), migrate: bool = False, **overrides: Any) -> TestApp:
        settings = dict(base_settings)
        settings.update({key.replace("__", "."): value for key, value in overrides.items()})
        config = make_config(settings, tuple(extra_plugins))
        engines.append(config.registry.db_engine)
        if migrate:
            migrations.upgrade(config.registry)
        return TestApp(config.make_wsgi_app())

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def db(registry: Any) -> Iterator[Any]:
    """A session for arranging and checking data; commit what you arrange.

    Its transactions begin deferred on SQLite, so holding one open while the
    app serves a request never blocks the app. A transaction sees one
    snapshot: ``db.rollback()`` (or commit) before reading what the app or a
    worker wrote since your last read.
    """
    session = registry.db_session_factory(bind=registry.db_read_engine)
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def in_transaction(registry: Any) -> Callable[[Callable[[Any], Any]], Any]:
    """``in_transaction(work)``: run ``work(db)`` in a committed transaction, as a request would."""

    def run(work: Callable[[Any], Any]) -> Any:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return work(transactional_session(registry.db_session_factory, manager))

    return run


# -- users, tokens, logged-in clients --------------------------------------------


@pytest.fixture
def make_user(registry: Any, db: Any) -> Callable[..., User]:
    """``make_user(username, permissions=(), superuser=False, password="password123", email=None, active=True)``.

    A committed user; ``permissions`` are granted through a group of its own.
    """

    def make(
        username: str,
        permissions: Iterable[str] = (),
        superuser: bool = False,
        password: str = TEST_PASSWORD,
        email: str | None = None,
        active: bool = True,
    ) -> User:
        user = User(
            username=username,
            email=email or f"{username}@example.com",
            password_hash=registry.passwords.hash(password),
            is_superuser=superuser,
            is_active=active,
        )
        permissions = list(permissions)
        if permissions:
            group = Group(name=f"{username}-grants", grants=[GroupPermission(permission=p) for p in permissions])
            user.groups.append(group)
        db.add(user)
        db.commit()
        return user

    return make


@pytest.fixture
def login(registry: Any, db: Any) -> Callable[[User], dict[str, str]]:
    """``login(user)``: headers with a fresh access token for ``user`` (a session is recorded as a login would)."""

    def headers(user: User) -> dict[str, str]:
        session = AuthSession(id=uuid.uuid4().hex, user_id=user.id)
        db.add(session)
        db.commit()
        token = registry.token_codec.access_token(user.id, session.id, username=user.username)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def client(
    _wsgi: Any, make_user: Callable[..., User], login: Callable[[User], dict[str, str]]
) -> Callable[..., TestApp]:
    """``client(*permissions, superuser=False, username=None, app=None)``: a logged-in WebTest client.

    A fresh user holding ``permissions`` (or a superuser) is made, and every
    request of the returned TestApp carries a fresh access token of theirs;
    ``client.user`` is that user. ``app`` is another TestApp (from
    ``make_app``) to log into instead of the ``app`` fixture's.
    """
    numbers = itertools.count(1)

    def make(*permissions: str, superuser: bool = False, username: str | None = None, app: Any = None) -> TestApp:
        user = make_user(username or f"client{next(numbers)}", permissions, superuser=superuser)
        token = login(user)["Authorization"]
        logged_in = TestApp(app.app if app is not None else _wsgi, extra_environ={"HTTP_AUTHORIZATION": token})
        logged_in.user = user
        return logged_in

    return make


# -- background tasks ------------------------------------------------------------


def _registry_of(app_or_registry: Any) -> Any:
    return app_or_registry.app.registry if isinstance(app_or_registry, TestApp) else app_or_registry


@pytest.fixture
def run_tasks() -> Callable[[Any], int]:
    """``run_tasks(app)``: run every task waiting in the app's queue, here and now; returns how many ran.

    For an app whose tasks wait rather than run at once
    (``make_app(huey__url="memory")``): the test sees the state before the
    task, runs it, and sees the state after. Tasks the tasks enqueue run too.
    ``app`` may be a TestApp or a registry.
    """

    def run(app_or_registry: Any) -> int:
        huey = _registry_of(app_or_registry).huey
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    return run


def _queue_url(folder: Path) -> str:
    return os.environ.get("PYRAMIDION_TEST_REDIS_URL") or f"sqlite:///{folder / f'huey-{uuid.uuid4().hex[:6]}.db'}"


@pytest.fixture
def worker(make_app: Callable[..., TestApp], tmp_path: Path) -> Iterator[Callable[..., TestApp]]:
    """``worker(extra_plugins=(), periodic=False, **settings)``: an app whose tasks a real Huey consumer runs.

    The queue is real (Redis at ``PYRAMIDION_TEST_REDIS_URL``, else a SQLite
    file) and so is the consumer (threads of this process, as ``pyramidion
    worker`` runs them), stopped and the queue emptied after the test. Wait for
    a task's effect with :func:`pyramidion.testing.wait_for`.
    """
    consumers = []

    def start(extra_plugins: Iterable[tuple[str, Any]] = (), periodic: bool = False, **settings: Any) -> TestApp:
        settings.setdefault("huey__url", _queue_url(tmp_path))
        settings.setdefault("huey__name", f"test-{uuid.uuid4().hex}")
        app = make_app(extra_plugins, **settings)
        huey = app.app.registry.huey
        consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=periodic, initial_delay=0.05)
        consumer.start()  # not run(): that installs signal handlers, which only the main thread may
        consumers.append((consumer, huey))
        return app

    yield start
    for consumer, huey in consumers:
        consumer.stop(graceful=True)
        huey.flush()
