"""Pyramidion plugin `robots`: robots over WAMP, with telemetry, commands and sharing.

Hooks only. The rules are in ``services.py``; REST under ``/api/robots`` in
``views.py``; the WAMP side on the backend session in ``realtime.py``,
frames stored in batches by ``frames.py``; the simulated robot
``pyramidion robot-sim`` in ``sim.py``. See ``README.md``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.auth import User
from pyramidion.request import Request

from . import demo, tasks
from .models import Robot
from .schemas import RobotsOfUser
from .services import MANAGE, robots_of
from .settings import robots_settings

ROUTES = {
    "robots.mine": "/mine",
    "robots.token": "/token",
    "robots.robot": r"/{id:\d+}",
    "robots.secret": r"/{id:\d+}/secret",
    "robots.shares": r"/{id:\d+}/shares",
    "robots.share": r"/{id:\d+}/shares/{user_id:\d+}",
    "robots.commands": r"/{id:\d+}/commands",
    "robots.positions": r"/{id:\d+}/positions",
}


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    robots_settings(settings)


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    config.add_route("robots.robots", "", inherit_slash=True)  # /api/robots, no trailing slash
    for name, path in ROUTES.items():
        config.add_route(name, path)
    config.scan(".views")


CONSOLE_ROUTES = {
    "robots.console.fleet": "/",
    "robots.console.robot": r"/{id:\d+}",
    "robots.console.commands": r"/{id:\d+}/commands",
    "robots.console.shares": r"/{id:\d+}/shares",
    "robots.console.unshare": r"/{id:\d+}/shares/{user_id:\d+}/delete",
    "robots.console.secret": r"/{id:\d+}/secret",
    "robots.console.rename": r"/{id:\d+}/name",
    "robots.console.delete": r"/{id:\d+}/delete",
}


@hookimpl
def pyramidion_console(config: Any) -> None:
    """The fleet at ``/console/robots/``, a page per robot; in the menu for every logged-in user, as the API."""
    for name, path in CONSOLE_ROUTES.items():
        config.add_route(name, path)
    config.add_console_menu("Robots", "robots.console.fleet", order=40)
    config.add_console_static("pyramidion_robots:console/static")
    config.scan(".console")


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    return {
        "description": "Robots over WAMP: telemetry, commands with delivery status, sharing",
        "url": "/api/robots",
    }


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [(MANAGE, "register robots, share any robot, rotate any robot's secret, see every robot")]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {"robots-managers": [MANAGE]}


@hookimpl
def pyramidion_realtime(session: Any) -> None:
    from .realtime import RobotsBackend  # Autobahn, loaded only in the backend

    RobotsBackend(session).declare()


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    return [tasks.purge_join_records]


@hookimpl
def pyramidion_me(request: Request, user: User) -> dict[str, Any]:
    """The robots the user owns or that are shared with them, under ``robots`` in ``GET /api/auth/me``."""
    robots = request.db.scalars(select(Robot).where(robots_of(user.id)).order_by(Robot.serial))
    return {"robots": [RobotsOfUser.model_validate(robot).model_dump() for robot in robots]}


@hookimpl
def pyramidion_commands(subparsers: Any) -> None:
    from .sim import add_command  # Autobahn's client, loaded only for the command

    add_command(subparsers)


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    """The operator with two robots, and a robot manager."""
    demo.add_demo_data(db, registry)
