"""A third-party plugin: greetings, delivered by a background task.

Hooks only; the work is in the modules beside this one. Its Alembic history
is in ``migrations/``, found by convention.
"""

from __future__ import annotations

from typing import Any

from pyramidion import hookimpl

from . import demo, tasks
from .settings import read_settings

requires_core = ">=0.1,<1"


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    read_settings(settings)


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    config.add_route("hello.greetings", "/greetings")
    config.scan(".views")


@hookimpl
def pyramidion_console(config: Any) -> None:
    config.add_route("hello.console.greetings", "/")
    config.add_console_menu("Greetings", "hello.console.greetings", order=700)
    config.scan(".console")


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    return {"description": "Greetings, delivered in the background", "url": "/api/hello/greetings"}


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list:
    return [tasks.deliver_greeting]


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    demo.add_demo_data(db, registry)
