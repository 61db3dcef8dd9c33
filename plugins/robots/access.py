"""Who may see and command a robot: its owner, the users it is shared with, and robot managers.

Managers are the users holding ``robots.manage`` (and superusers): they
register robots, share them and rotate their secrets, and see every robot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from pyramidion.auth.models import User
from pyramidion.auth.policy import user_permissions

from .models import Robot, Share

MANAGE = "robots.manage"


def robots_of(user_id: int) -> ColumnElement[bool]:
    """A clause true for the robots ``user_id`` owns or has been given."""
    shared = exists().where(Share.robot_id == Robot.id, Share.user_id == user_id)
    return or_(Robot.owner_id == user_id, shared)


def is_manager(db: Any, user: User) -> bool:
    return user.is_superuser or MANAGE in user_permissions(db, user.id)


def may_use(db: Any, user: User, robot_id: int) -> bool:
    """Whether ``user`` may see, watch and command the robot."""
    if is_manager(db, user):
        return True
    return bool(db.scalar(select(exists().where(Robot.id == robot_id, robots_of(user.id)))))
