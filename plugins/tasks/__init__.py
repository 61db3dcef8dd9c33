"""Pyramidion plugin `tasks`: a task tracker with performers, delegation,
comments, attachments and mail notifications. See README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyramidion import hookimpl

from . import models, tasks  # noqa: F401  (models: the tables must be known to migrations)
from .attachments import AttachmentStore
from .settings import read_settings


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    read_settings(settings)


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    registry = config.registry
    registry.tasks_settings = read_settings(config.get_settings())
    # Resolved now: a worker started elsewhere must find the same files.
    registry.tasks_attachments = AttachmentStore(registry.tasks_settings.attachments_path.resolve())
    config.add_route("tasks.tasks", "", inherit_slash=True)
    config.add_route("tasks.task", r"/{id:\d+}")
    config.add_route("tasks.delegate", r"/{id:\d+}/delegate")
    config.add_route("tasks.comments", r"/{id:\d+}/comments")
    config.add_route("tasks.attachments", r"/{id:\d+}/attachments")
    config.add_route("tasks.attachment", r"/{id:\d+}/attachments/{attachment_id:\d+}")
    config.scan(".views")


@hookimpl
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [
        ("tasks.view_all", "see and comment on every task, not only your own"),
        ("tasks.admin", "see, comment on and delete every task"),
    ]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {
        "administrators": ["tasks.view_all", "tasks.admin"],
        "tasks-supervisors": ["tasks.view_all"],
    }


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    return [tasks.send_notification]


@hookimpl
def pyramidion_demo_data(db: Any) -> None:
    from .demo import add_demo_data

    add_demo_data(db)
