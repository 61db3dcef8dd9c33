"""Endpoints about the platform itself: the index, health and loaded plugins.

``GET /`` leads people to the console (or to the index when the console is
disabled); ``GET /api/`` is the public index for programs: version, links and
what each plugin offers (its ``pyramidion_capabilities`` hook), as Kinto's root.

``GET /api/health`` (readiness) and ``GET /api/health/live`` (liveness) answer
from :mod:`pyramidion.health`, whose checks the console's dashboard shows too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from .. import health
from ..plugins import describe
from ..request import Request
from ..settings import section
from .render import dumps
from .views import api_view


class SourceRevision(BaseModel):
    source: str = Field(description="core, or a plugin's name")
    revision: str | None = Field(description="the revision the database is at; null: none applied")
    head: str | None = Field(description="the head revision this code ships")
    at_head: bool


class Check(BaseModel):
    ok: bool
    detail: str = Field(description="what was seen, in a sentence")
    required: bool = Field(description="whether the process is ready only when this check is ok (health.required)")


class MigrationsCheck(Check):
    sources: list[SourceRevision] | None = Field(description="each source's revision; null: the database is unreadable")


class Health(BaseModel):
    status: Literal["ok", "degraded", "not ready"] = Field(
        description="ok: every check ok; degraded: ready, but a check not required is failing; not ready: see failing"
    )
    ready: bool
    failing: list[str] = Field(description="the required checks that failed (empty when ready)")
    version: str
    checked_at: dt.datetime = Field(
        description="when the checks ran (each process reruns them every health.cache_seconds)"
    )
    database: Check
    migrations: MigrationsCheck
    queue: Check
    worker: Check
    router: Check


class Live(BaseModel):
    status: Literal["ok"]


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


_HEALTH_ADAPTER = TypeAdapter(Health)


NOT_STORED = (("Cache-Control", "no-store"),)


def _answer(body: bytes, status: int) -> Response:
    # A proxy must not answer for the process: no-store.
    return Response(body=body, status=status, headerlist=[("Content-Type", "application/json"), *NOT_STORED])


def _document(report: health.Report, registry: Any) -> bytes:
    """``report`` as the body of ``GET /api/health``, made once per report (the checks run once a period)."""
    made = getattr(registry, "health_document", None)
    if made is not None and made[0] is report:
        return made[1]
    document = _HEALTH_ADAPTER.validate_python(
        {
            "status": report.status,
            "ready": report.ready,
            "failing": report.failing,
            "version": registry.pyramidion_version,
            "checked_at": report.checked_at,
            **report.checks,
        },
        from_attributes=True,
    )
    body = _HEALTH_ADAPTER.dump_python(document, mode="json")
    if not report.ready:
        body["error"] = {
            "status": 503,
            "message": f"not ready: {', '.join(report.failing)} failing",
            "details": [{"check": name, "message": report.checks[name].detail} for name in report.failing],
        }
    body_bytes = dumps(body)
    registry.health_document = (report, body_bytes)
    return body_bytes


@api_view(
    "api.health",
    response=Health,
    permission=NO_PERMISSION_REQUIRED,
    tags=["platform"],
    responses={503: "Not ready: a required check failed; the body is this document, with `error` naming the checks"},
)
def health_view(request: Request) -> Response:
    """Readiness: can this process serve? Database, migrations, queue, worker heartbeat, router.

    200 when every check named in ``health.required`` (default: database and
    migrations) is ok, with ``status`` ``degraded`` when another one is not;
    503 when one of them fails, naming it in ``failing``. Each process runs
    the checks at most once per ``health.cache_seconds`` (default 1 s) and
    answers from that outcome meanwhile (``checked_at``).
    """
    report = request.registry.health.report()
    return _answer(_document(report, request.registry), 200 if report.ready else 503)


_LIVE = b'{"status":"ok"}'


@api_view("api.health.live", response=Live, permission=NO_PERMISSION_REQUIRED, tags=["platform"])
def live(request: Request) -> Response:
    """Liveness: this process answers requests.

    It reads nothing (no database, no queue), so it stays 200 while the
    database is down: restart a process when this fails, take it out of
    rotation when ``GET /api/health`` does.
    """
    return _answer(_LIVE, 200)


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
    config.registry.health = health.HealthCache(
        config.registry, section(config.get_settings(), "health", health.HealthSettings)
    )
    config.add_route("api.health", "/api/health")
    config.add_route("api.health.live", "/api/health/live")
    config.add_route("api.plugins", "/api/plugins")
    config.scan(__name__)
