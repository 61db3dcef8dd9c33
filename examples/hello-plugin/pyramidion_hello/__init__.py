"""A third-party plugin: greetings, delivered by a background task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyramidion import hookimpl

from . import models, tasks  # noqa: F401  (models: the tables must be known to migrations)

requires_core = ">=0.1,<1"


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    config.add_route("hello.greetings", "/greetings")
    config.scan(".views")


@hookimpl
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list:
    return [tasks.deliver_greeting]
