"""Endpoints about the platform itself: health and loaded plugins."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import text

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


@api_view("api.health", response=Health, permission=NO_PERMISSION_REQUIRED, tags=["platform"])
def health(request: Any) -> dict[str, Any]:
    """Database, queue and router reachability.

    Answers 503 when the database cannot be reached; the queue or the router
    being down only degrades the platform.
    """
    database = _check(lambda: _database(request))
    queue = _check(lambda: _queue(request))
    router = _check(request.registry.realtime.ping)
    healthy = database.ok and queue.ok and router.ok
    if not database.ok:
        request.response.status_int = 503
    return {
        "status": "ok" if healthy else "degraded",
        "version": request.registry.pyramidion_version,
        "database": database,
        "queue": queue,
        "router": router,
    }


@api_view("api.plugins", response=list[PluginOut], tags=["platform"])
def plugins(request: Any) -> list[Any]:
    """The loaded plugins with their versions and the hooks they implement."""
    return describe(request.registry.pm)


def includeme(config: Any) -> None:
    config.add_route("api.health", "/api/health")
    config.add_route("api.plugins", "/api/plugins")
    config.scan(__name__)
