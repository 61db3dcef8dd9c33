"""Shared fixtures: a real database migrated once per test process, a real app.

The database is SQLite (a file per xdist worker) unless
``PYRAMIDION_TEST_DATABASE_URL`` names a PostgreSQL server, in which case each
worker gets a database of its own there. Every test starts from empty tables:
data is committed for real (so after-commit hooks, background tasks and
concurrent transactions behave as in production) and wiped after the test.

Huey runs tasks at once, in process (``huey.url = immediate``) unless a test
builds an app with other settings; ``PYRAMIDION_TEST_REDIS_URL`` names the
Redis server for the tests that use a real queue.

Fixtures for tests of any plugin:

* ``app``: a WebTest app over the platform with every installed plugin;
* ``registry``: its Pyramid registry (settings, huey, pm);
* ``db``: a SQLAlchemy session for arranging and checking data (commit it);
* ``make_user(username, permissions=(), superuser=False)``: a committed user;
* ``login(user)``: headers with a fresh access token for ``user``;
* ``make_app(**settings)``: another app over the same database, other settings.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
from sqlalchemy import create_engine, inspect, make_url, text
from webtest import TestApp

from pyramidion import make_config, migrations
from pyramidion.auth.models import Group, GroupPermission, User
from pyramidion.auth.models import Session as AuthSession
from pyramidion.db import Base, transactional_session

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["realtime_fixtures"]
JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
    return TestApp(_wsgi)


@pytest.fixture
def make_app(base_settings: dict[str, Any], _config: Any) -> Iterator[Callable[..., TestApp]]:
    """Another app over the same (migrated) database with settings changed."""

    engines = []

    def build(extra_plugins: tuple = (), **overrides: Any) -> TestApp:
        settings = dict(base_settings)
        settings.update({key.replace("__", "."): value for key, value in overrides.items()})
        config = make_config(settings, extra_plugins)
        engines.append(config.registry.db_engine)
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
def make_user(registry: Any, db: Any) -> Callable[..., User]:
    def make(
        username: str,
        permissions: tuple[str, ...] | list[str] = (),
        superuser: bool = False,
        password: str = "password123",
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
        if permissions:
            group = Group(name=f"{username}-grants", grants=[GroupPermission(permission=p) for p in permissions])
            user.groups.append(group)
        db.add(user)
        db.commit()
        return user

    return make


@pytest.fixture
def login(registry: Any, db: Any) -> Callable[[User], dict[str, str]]:
    """Headers with a valid access token for ``user`` (a session is recorded as a login would)."""

    def headers(user: User) -> dict[str, str]:
        session = AuthSession(id=uuid.uuid4().hex, user_id=user.id)
        db.add(session)
        db.commit()
        token = registry.token_codec.access_token(user.id, session.id, username=user.username)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def in_transaction(registry: Any) -> Callable[[Callable[[Any], Any]], Any]:
    """Run ``work(db)`` in a committed transaction, as a request would."""

    def run(work: Callable[[Any], Any]) -> Any:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return work(transactional_session(registry.db_session_factory, manager))

    return run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "router: needs the Crossbar router environment (pyramidion router install)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
