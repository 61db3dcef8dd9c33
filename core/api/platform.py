"""Endpoints about the platform itself: the index, health and loaded plugins.

``GET /`` leads people to the console (or to the index when the console is
disabled); ``GET /api/`` is the public index for programs: version, links and
what each plugin offers (its ``pyramidion_capabilities`` hook), as Kinto's root.

:func:`platform_checks` is what both ``GET /api/health`` and the console's
dashboard show.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import text

from ..heartbeat import worker_status
from ..plugins import describe
from ..request import Request
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


class Links(BaseModel):
    docs: str
    openapi: str
    health: str
    console: str | None


class PluginCapabilities(BaseModel):
    model_config = ConfigDict(extra="allow")  # whatever the plugin declares, e.g. description, url, versions
    version: str | None


class Index(BaseModel):
    name: str
    version: str
    links: Links
    plugins: dict[str, PluginCapabilities]


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


def _database(request: Request) -> str:
    # The read-only engine: on SQLite the other one takes the write lock, and
    # a health check must not queue behind (or hold up) writers.
    with request.registry.db_read_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "reachable"


def _queue(request: Request) -> str:
    huey = request.registry.huey
    if huey.immediate:
        return "immediate (in process)"
    return f"{type(huey.storage).__name__}: {huey.pending_count()} pending"


def _worker(request: Request) -> Check:
    try:
        alive, detail = worker_status(request.registry.huey)
    except Exception as exc:  # the queue's storage is down: the queue check says so too
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    return Check(ok=alive, detail=detail)


def platform_checks(request: Request) -> dict[str, Check]:
    """Database, queue, worker and router: reachable (``ok``) and what was seen (``detail``)."""
    return {
        "database": _check(lambda: _database(request)),
        "queue": _check(lambda: _queue(request)),
        "worker": _worker(request),
        "router": _check(request.registry.realtime.ping),
    }


@api_view("api.health", response=Health, permission=NO_PERMISSION_REQUIRED, tags=["platform"])
def health(request: Request) -> dict[str, Any]:
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


def plugin_capabilities(registry: Any) -> dict[str, dict[str, Any]]:
    """Each loaded plugin's version and what its ``pyramidion_capabilities`` hook declares."""
    versions = {info.name: info.version for info in describe(registry.pm)}
    declared = {
        impl.plugin_name: impl.function() or {} for impl in registry.pm.hook.pyramidion_capabilities.get_hookimpls()
    }
    return {name: {"version": versions[name], **declared.get(name, {})} for name in sorted(versions)}


@api_view("api.index", response=Index, permission=NO_PERMISSION_REQUIRED, tags=["platform"])
def index(request: Request) -> dict[str, Any]:
    """The platform: version, where its documentation is, and what each plugin offers."""
    console = getattr(request.registry, "console_settings", None) is not None
    return {
        "name": request.registry.settings.get("pyramidion.title", "Pyramidion"),
        "version": request.registry.pyramidion_version,
        "links": {
            "docs": request.route_url("api.docs"),
            "openapi": request.route_url("api.openapi"),
            "health": request.route_url("api.health"),
            "console": request.route_url("console.home") if console else None,
        },
        "plugins": plugin_capabilities(request.registry),
    }


def home(request: Request) -> HTTPFound:
    """``/``: people go to the console; without it, to the API's index."""
    console = getattr(request.registry, "console_settings", None) is not None
    return HTTPFound(request.route_url("console.home" if console else "api.index"))


@api_view("api.plugins", response=list[PluginOut], tags=["platform"])
def plugins(request: Request) -> list[Any]:
    """The loaded plugins with their versions and the hooks they implement."""
    return describe(request.registry.pm)


def includeme(config: Any) -> None:
    config.add_route("home", "/")
    config.add_view(home, route_name="home", permission=NO_PERMISSION_REQUIRED)
    config.add_route("api.index", "/api/")
    config.add_route("api.health", "/api/health")
    config.add_route("api.plugins", "/api/plugins")
    config.scan(__name__)
