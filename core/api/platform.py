"""Endpoints about the platform itself: health and loaded plugins.

:func:`platform_checks` is what both ``GET /api/health`` and the console's
dashboard show.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import text

from ..heartbeat import worker_status
from ..plugins import describe
from .views import api_view


class Check(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    status: str
    version: str
    database: Check
    queue: Check
    worker: Check
    router: Check


class PluginOut(BaseModel):
    name: str
    module: str
    version: str | None
    distribution: str | None
    hooks: list[str]


def _check(probe: Any) -> Check:
    try:
        return Check(ok=True, detail=probe() or "reachable")
    except Exception as exc:  # a health check reports failures, it does not raise them
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")


def _database(request: Any) -> str:
    # The read-only engine: on SQLite the other one takes the write lock, and
    # a health check must not queue behind (or hold up) writers.
    with request.registry.db_read_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "reachable"


def _queue(request: Any) -> str:
    huey = request.registry.huey
    if huey.immediate:
        return "immediate (in process)"
    return f"{type(huey.storage).__name__}: {huey.pending_count()} pending"


def _worker(request: Any) -> Check:
    try:
        alive, detail = worker_status(request.registry.huey)
    except Exception as exc:  # the queue's storage is down: the queue check says so too
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    return Check(ok=alive, detail=detail)


def platform_checks(request: Any) -> dict[str, Check]:
    """Database, queue, worker and router: reachable (``ok``) and what was seen (``detail``)."""
    return {
        "database": _check(lambda: _database(request)),
        "queue": _check(lambda: _queue(request)),
        "worker": _worker(request),
        "router": _check(request.registry.realtime.ping),
    }


@api_view("api.health", response=Health, permission=NO_PERMISSION_REQUIRED, tags=["platform"])
def health(request: Any) -> dict[str, Any]:
    """Database, queue, worker heartbeat and router reachability.

    Answers 503 when the database cannot be reached; the queue, the workers or
    the router being down only degrades the platform.
    """
    checks = platform_checks(request)
    if not checks["database"].ok:
        request.response.status_int = 503
    return {
        "status": "ok" if all(check.ok for check in checks.values()) else "degraded",
        "version": request.registry.pyramidion_version,
        **checks,
    }


@api_view("api.plugins", response=list[PluginOut], tags=["platform"])
def plugins(request: Any) -> list[Any]:
    """The loaded plugins with their versions and the hooks they implement."""
    return describe(request.registry.pm)


def includeme(config: Any) -> None:
    config.add_route("api.health", "/api/health")
    config.add_route("api.plugins", "/api/plugins")
    config.scan(__name__)
