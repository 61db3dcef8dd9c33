"""Pyramidion plugin `tasks`: a task tracker with performers, delegation,
comments, attachments and mail notifications. See README.md."""

from __future__ import annotations

from typing import Any

from pyramidion import hookimpl

from . import models  # noqa: F401  (models: the tables must be known to migrations)
from .attachments import AttachmentStore, IAttachmentStore
from .services import ADMIN, VIEW_ALL
from .settings import read_settings


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    read_settings(settings)


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    registry = config.registry
    registry.tasks_settings = read_settings(config.get_settings())
    config.register_service_factory(AttachmentStore.factory(registry.tasks_settings), IAttachmentStore)
    config.add_route("tasks.tasks", "", inherit_slash=True)
    config.add_route("tasks.task", r"/{id:\d+}")
    config.add_route("tasks.delegate", r"/{id:\d+}/delegate")
    config.add_route("tasks.comments", r"/{id:\d+}/comments")
    config.add_route("tasks.attachments", r"/{id:\d+}/attachments")
    config.add_route("tasks.attachment", r"/{id:\d+}/attachments/{attachment_id:\d+}")
    config.scan(".views")


@hookimpl
def pyramidion_console(config: Any) -> None:
    config.include(".console")


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    return {"description": "Tasks with performers, delegation, comments and attachments", "url": "/api/tasks"}


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [
        (VIEW_ALL, "see and comment on every task, not only your own"),
        (ADMIN, "see, comment on and delete every task"),
    ]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {
        "administrators": [VIEW_ALL, ADMIN],
        "tasks-supervisors": [VIEW_ALL],
    }


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    from .demo import add_demo_data

    add_demo_data(db, registry)
