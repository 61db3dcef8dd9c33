"""Is this process ready to serve: the checks behind ``GET /api/health``, the dashboard and ``pyramidion health``.

Five checks, each ``ok`` or not with a sentence saying what was seen:

* ``database``: reachable, and writable (not a read-only PostgreSQL, not a
  SQLite file that is gone, replaced or read-only);
* ``migrations``: the core and every plugin at the head revision this code
  ships (each source named with its revision when it is behind or ahead);
* ``queue``: Huey's storage (Redis, the SQLite file) answers;
* ``worker``: a worker asked for work within ``health.worker_within`` seconds
  (:mod:`pyramidion.heartbeat`);
* ``router``: the WAMP router answers.

The process is *ready* when every check named in ``health.required``
(default ``database migrations``) is ok. Those are what a web process cannot
serve without: a request needs the database at the schema its code expects.
The queue, the workers and the router are shared by every web process, and
requests still succeed without them (tasks and publishes are then lost and
logged): taking this process out of rotation would not route around them, so
they only make the status ``degraded``. An operator who wants otherwise lists
them in ``health.required``.

Checks touch the database, Redis and the router, so a process runs them at
most once per ``health.cache_seconds`` (default 1 s) and answers from that
outcome meanwhile; the migration heads are read from the revision files once
per process, only the version tables are read again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import text

from .db import sqlite_file
from .heartbeat import worker_status
from .revisions import revisions
from .settings import Section, as_list, section

CHECKS = ("database", "migrations", "queue", "worker", "router")


class HealthSettings(Section):
    """The ``health.*`` settings."""

    cache_seconds: float = Field(1.0, ge=0)
    worker_within: float = Field(60.0, gt=0)
    required: list[str] = ["database", "migrations"]

    @field_validator("required", mode="before")
    @classmethod
    def _names(cls, value: Any) -> list[str]:
        names = as_list(value)
        unknown = sorted(set(names) - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown checks {', '.join(unknown)}; known: {', '.join(CHECKS)}")
        return names


@dataclasses.dataclass(frozen=True)
class SourceRevision:
    """One migration source: the revision the database is at, the head this code ships."""

    source: str
    revision: str | None
    head: str | None

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


@dataclasses.dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    required: bool = False
    sources: list[SourceRevision] | None = None  # the migrations check only


@dataclasses.dataclass(frozen=True)
class Report:
    checks: dict[str, Check]
    checked_at: dt.datetime

    @property
    def failing(self) -> list[str]:
        """The required checks that failed: why the process is not ready."""
        return [name for name, check in self.checks.items() if check.required and not check.ok]

    @property
    def degraded_by(self) -> list[str]:
        """The checks that failed but are not required: the process serves, some of the platform does not."""
        return [name for name, check in self.checks.items() if not check.required and not check.ok]

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def status(self) -> str:
        if not self.ready:
            return "not ready"
        return "ok" if all(check.ok for check in self.checks.values()) else "degraded"


def _failed(exc: Exception) -> str:
    return f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}"


def _database_and_migrations(registry: Any) -> tuple[tuple[bool, str], tuple[bool, str, list[SourceRevision] | None]]:
    # One connection for both: the read-only engine, which on SQLite never
    # takes (or waits for) the write lock.
    try:
        with registry.db_read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            unwritable = _unwritable(connection)
            rows = [SourceRevision(*row) for row in revisions(registry, connection)]
    except Exception as exc:  # a health check reports failures, it does not raise them
        return (False, _failed(exc)), (False, "unknown: the database cannot be read", None)
    database = (False, unwritable) if unwritable else (True, "reachable, writable")
    behind = [row for row in rows if not row.at_head]
    if not behind:
        return database, (True, "at head: " + ", ".join(f"{r.source} {r.head or '(none)'}" for r in rows), rows)
    detail = (
        "; ".join(f"{r.source} at {r.revision or 'nothing'}, head {r.head or '(none)'}" for r in behind)
        + " (run `pyramidion db upgrade`; a revision unknown to the code means the code is older than the database)"
    )
    return database, (False, detail, rows)


def _unwritable(connection: Any) -> str | None:
    """Why the database accepts no writes, or None."""
    if connection.dialect.name == "postgresql":
        if connection.execute(text("SHOW transaction_read_only")).scalar() == "on":
            return "read-only: the server accepts no writes (a standby, or default_transaction_read_only)"
        return None
    if connection.dialect.name == "sqlite":
        url = connection.engine.url
        path = sqlite_file(url)
        if path is None:
            return None
        if url.query.get("mode") == "ro":
            return "read-only: opened with mode=ro"
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), path.parent]
        denied = [str(f) for f in files if f.exists() and not os.access(f, os.W_OK)]
        if denied:
            return f"read-only: this process may not write {', '.join(denied)}"
    return None


def _queue(registry: Any) -> str:
    huey = registry.huey
    if huey.immediate:
        return "immediate (in process)"
    return f"{type(huey.storage).__name__}: {huey.pending_count()} pending"


def _probe(probe: Callable[[], str]) -> tuple[bool, str]:
    try:
        return True, probe()
    except Exception as exc:
        return False, _failed(exc)


def run_checks(registry: Any, settings: HealthSettings | None = None) -> Report:
    """Every check, now (no cache): what ``pyramidion health`` prints."""
    settings = settings or section(registry.settings, "health", HealthSettings)
    required = set(settings.required)
    database, (migrated, migrations_detail, sources) = _database_and_migrations(registry)
    queue = _probe(lambda: _queue(registry))
    try:
        worker = worker_status(registry.huey, settings.worker_within)
    except Exception as exc:  # the queue's storage is down: the queue check says so too
        worker = (False, _failed(exc))
    found = {
        "database": Check(*database, required="database" in required),
        "migrations": Check(migrated, migrations_detail, "migrations" in required, sources),
        "queue": Check(*queue, required="queue" in required),
        "worker": Check(*worker, required="worker" in required),
        "router": Check(*_probe(registry.realtime.ping), required="router" in required),
    }
    return Report(found, dt.datetime.now(dt.UTC))


class HealthCache:
    """The last :class:`Report` of this process, run again once ``health.cache_seconds`` have passed.

    One thread runs the checks while the others answer from the previous
    outcome, so a slow dependency (a router that takes its timeout to
    answer) holds up one request a period, not every request.
    """

    def __init__(self, registry: Any, settings: HealthSettings) -> None:
        self.registry = registry
        self.settings = settings
        self.lock = threading.Lock()
        self.last: tuple[float, Report] | None = None

    def report(self) -> Report:
        last = self.last
        if last is not None and time.monotonic() - last[0] < self.settings.cache_seconds:
            return last[1]
        if not self.lock.acquire(blocking=last is None):
            return last[1]  # type: ignore[index]  # another thread is running the checks: the last outcome
        try:
            if self.last is not last:  # run by the thread this one waited for
                return self.last[1]  # type: ignore[index]
            report = run_checks(self.registry, self.settings)
            self.last = (time.monotonic(), report)
            return report
        finally:
            self.lock.release()


def includeme(config: Any) -> None:
    settings = section(config.get_settings(), "health", HealthSettings)
    config.registry.health = HealthCache(config.registry, settings)
