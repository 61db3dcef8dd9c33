"""Pyramidion plugin ``jobs``: Nornir job templates, inventories, runs, presets and schedules.

See ``README.md`` beside this file for the endpoints, pages, settings and permissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyramidion import hookimpl
from pyramidion.settings import section

from . import hookspecs, models  # noqa: F401  (models: the tables must be known to migrations)
from .catalogue import TemplateCatalogue
from .credentials import Cipher
from .interfaces import IJobRunner
from .realtime import may_follow_runs
from .runner import nornir_runner
from .services import DEFAULT_GROUPS, PERMISSIONS
from .settings import JobsSettings

if TYPE_CHECKING:
    from pyramidion.realtime import BackendSession  # Autobahn: only the backend process needs it


@hookimpl
def pyramidion_addhooks(pm: Any) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    section(settings, "jobs", JobsSettings)
    Cipher.from_settings(settings)  # a bad key stops startup here, not at the first run


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return list(PERMISSIONS.items())


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return DEFAULT_GROUPS


@hookimpl
def pyramidion_background_tasks(huey: Any) -> Any:
    from . import tasks

    return tasks


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    registry = config.registry
    registry.jobs_cipher = Cipher.from_settings(registry.settings)
    registry.job_templates = TemplateCatalogue.discover(registry.pm)
    config.register_service_factory(nornir_runner, IJobRunner)
    config.include(".views")


@hookimpl
def pyramidion_console(config: Any) -> None:
    config.include(".console")


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    return {
        "description": "Nornir job templates run on database inventories, with live progress over WAMP",
        "url": "/api/jobs",
        "console": "/console/jobs/",
    }


@hookimpl
def pyramidion_realtime(session: BackendSession) -> None:
    session.add_authorizer(may_follow_runs)


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    from .demo import add_demo_data

    add_demo_data(db, registry)
