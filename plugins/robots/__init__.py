"""Pyramidion plugin `robots`: robots over WAMP, with telemetry, commands and sharing.

REST under ``/api/robots`` (``views.py``), the WAMP side on the backend
session (``realtime.py``), frames stored in batches (``frames.py``) and a
simulated robot, ``pyramidion robot-sim`` (``sim.py``). See ``README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select

from pyramidion import hookimpl
from pyramidion.auth.models import User
from pyramidion.db import utcnow
from pyramidion.queue import crontab, periodic_task

from . import models
from .access import MANAGE, robots_of
from .credentials import digest
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


@hookimpl
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [(MANAGE, "register robots, share any robot, rotate any robot's secret, see every robot")]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {"robots-managers": [MANAGE]}


@hookimpl
def pyramidion_realtime(session: Any) -> None:
    from .realtime import RobotsBackend

    RobotsBackend(session).declare()


@periodic_task(crontab(minute="17"))
def purge_join_records(request: Any) -> None:
    """Hourly: spent and expired join tokens."""
    token = models.JoinToken
    request.db.execute(delete(token).where(or_(token.expires_at < utcnow(), token.used_at.is_not(None))))


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    return [purge_join_records]


@hookimpl
def pyramidion_me(request: Any, user: User) -> dict[str, Any]:
    from .schemas import RobotsOfUser

    robots = request.db.scalars(select(models.Robot).where(robots_of(user.id)).order_by(models.Robot.serial))
    return {"robots": [RobotsOfUser.model_validate(robot).model_dump() for robot in robots]}


@hookimpl
def pyramidion_commands(subparsers: Any) -> None:
    from .sim import add_command

    add_command(subparsers)


DEMO_ROBOTS = [("UR-0001", "Rover one"), ("UR-0002", "Rover two")]
DEMO_SECRET = "demo-robot-secret"  # printed in README.md: for trying robot-sim, never in production


@hookimpl
def pyramidion_demo_data(db: Any) -> None:
    """Two robots owned by the demo user ``operator`` (password ``operator-demo``), secret ``demo-robot-secret``."""
    from argon2 import PasswordHasher

    operator = db.scalar(select(User).where(User.username == "operator"))
    if operator is None:
        operator = User(
            username="operator", email="operator@example.com", password_hash=PasswordHasher().hash("operator-demo")
        )
        db.add(operator)
    known = set(
        db.scalars(select(models.Robot.serial).where(models.Robot.serial.in_([serial for serial, _ in DEMO_ROBOTS])))
    )
    for serial, name in DEMO_ROBOTS:
        if serial not in known:
            db.add(models.Robot(serial=serial, name=name, owner=operator, secret_hash=digest(DEMO_SECRET)))
