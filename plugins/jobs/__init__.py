"""Pyramidion plugin ``jobs``: Nornir job templates, inventories, runs, presets and schedules.

See ``README.md`` beside this file for the endpoints, settings and permissions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from pyramidion import hookimpl
from pyramidion.settings import Section, section

from . import hookspecs, models  # noqa: F401  (models: the tables must be known to migrations)
from .credentials import Cipher
from .realtime import may_follow_runs
from .templates import TemplateRegistry

PERMISSIONS = {
    "jobs.run": "launch, abort and relaunch runs; manage presets and schedules",
    "jobs.inventory": "create, change and delete inventories, their hosts, groups and defaults",
    "jobs.configure": "change the Nornir runner configuration",
}


class JobsSettings(Section):
    credentials_key: str | None = Field(None, description="Fernet key(s); derived from jwt.secret when unset")
    flush_interval: float = Field(0.5, ge=0, description="seconds between writes of a running job's progress")


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
    # The original's groups: superuser may do everything, netadmin runs jobs,
    # support looks on (reading needs no more than a login).
    return {"superuser": list(PERMISSIONS), "netadmin": ["jobs.run"], "support": []}


@hookimpl
def pyramidion_background_tasks(huey: Any) -> Any:
    from . import tasks

    return tasks


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    registry = config.registry
    registry.jobs_cipher = Cipher.from_settings(registry.settings)
    registry.job_templates = TemplateRegistry.discover(registry.pm)
    config.add_route("jobs.templates", "/templates")
    config.add_route("jobs.template", "/templates/{name}")
    config.add_route("jobs.inventories", "/inventories")
    config.add_route("jobs.inventory_import", "/inventories/import")
    config.add_route("jobs.inventory", r"/inventories/{id:\d+}")
    config.add_route("jobs.defaults", r"/inventories/{id:\d+}/defaults")
    config.add_route("jobs.hosts", r"/inventories/{id:\d+}/hosts")
    config.add_route("jobs.host", r"/inventories/{id:\d+}/hosts/{name}")
    config.add_route("jobs.groups", r"/inventories/{id:\d+}/groups")
    config.add_route("jobs.group", r"/inventories/{id:\d+}/groups/{name}")
    config.add_route("jobs.runs", "/runs")
    config.add_route("jobs.run", r"/runs/{id:\d+}")
    config.add_route("jobs.run_hosts", r"/runs/{id:\d+}/hosts")
    config.add_route("jobs.run_abort", r"/runs/{id:\d+}/abort")
    config.add_route("jobs.run_relaunch", r"/runs/{id:\d+}/relaunch")
    config.add_route("jobs.presets", "/presets")
    config.add_route("jobs.preset", r"/presets/{id:\d+}")
    config.add_route("jobs.preset_launch", r"/presets/{id:\d+}/launch")
    config.add_route("jobs.schedules", "/schedules")
    config.add_route("jobs.schedule", r"/schedules/{id:\d+}")
    config.add_route("jobs.configuration", "/configuration")
    config.scan(".views")


@hookimpl
def pyramidion_realtime(session: Any) -> None:
    session.add_authorizer(may_follow_runs)


@hookimpl
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_demo_data(db: Any) -> None:
    from .demo import add_demo_data

    add_demo_data(db)
