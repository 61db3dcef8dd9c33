"""``/api/robots``: robots, sharing, join tokens, commands and position history.

Who may do what with a robot:

* see it, command it, read its positions and watch its status: its owner,
  the users it is shared with, and managers (``robots.manage``, superusers);
* share it, stop sharing it and rotate its secret: its owner and managers;
* register, rename and delete robots: managers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pyramidion.api import Conflict, Filter, Invalid, Listing, Page, Timestamp, api_view, ensure_unique
from pyramidion.api.errors import error_response
from pyramidion.auth.models import User
from pyramidion.auth.throttle import TooManyAttempts
from pyramidion.db import utcnow
from pyramidion.realtime import realtime_settings

from .access import MANAGE, robots_of
from .credentials import WrongCredentials, issue_token, new_secret, rotate_secret
from .models import Command, CommandStatus, Frame, FrameType, Robot, RobotState, Share
from .realtime import command_message, command_topic
from .schemas import (
    CommandIn,
    CommandOut,
    PositionOut,
    RobotIn,
    RobotOut,
    RobotUpdate,
    RobotWithSecret,
    SecretOut,
    ShareIn,
    TokenIn,
    TokenOut,
    UserRef,
)
from .settings import robots_settings

WITH_OWNER = joinedload(Robot.owner)


def _is_manager(request: Any) -> bool:
    return bool(request.has_permission(MANAGE))


def _robot(request: Any) -> Robot:
    """The robot of the path, if the caller may use it (403 otherwise, 404 when there is none)."""
    robot = request.db.scalar(select(Robot).options(WITH_OWNER).where(Robot.id == int(request.matchdict["id"])))
    if robot is None:
        raise HTTPNotFound("no such robot")
    if not _is_manager(request):
        user_id = request.identity.user.id
        if robot.owner_id != user_id and not request.db.get(Share, (robot.id, user_id)):
            raise HTTPForbidden("this robot is not shared with you")
    return robot


def _owned_robot(request: Any) -> Robot:
    """The robot of the path, if the caller owns it or is a manager."""
    robot = _robot(request)
    if robot.owner_id != request.identity.user.id and not _is_manager(request):
        raise HTTPForbidden("only the robot's owner or a manager may do this")
    return robot


def _user(request: Any, user_id: int, field: str) -> User:
    user = request.db.get(User, user_id)
    if user is None:
        raise Invalid.field(field, "no such user")
    return user


# -- robots ------------------------------------------------------------------------

robots_listing = Listing(
    key=Robot.id,
    ordering={"id": Robot.id, "serial": Robot.serial, "name": Robot.name, "created_at": Robot.created_at},
    default_ordering="serial",
    search=[Robot.serial, Robot.name],
    filters={
        "connected": Filter(lambda connected: Robot.connected if connected else ~Robot.connected, bool),
        "owner_id": Filter(Robot.owner_id, int),
    },
)


@api_view("robots.robots", query=robots_listing, response=Page[RobotOut])
def list_robots(request: Any, query: Any) -> dict[str, Any]:
    """Your robots (owned or shared with you); managers see every robot."""
    statement = select(Robot).options(WITH_OWNER)
    if not _is_manager(request):
        statement = statement.where(robots_of(request.identity.user.id))
    return query.page(statement)


@api_view("robots.mine", response=list[RobotOut])
def my_robots(request: Any) -> list[Robot]:
    """The robots you own or that are shared with you, whoever you are."""
    return list(
        request.db.scalars(
            select(Robot).options(WITH_OWNER).where(robots_of(request.identity.user.id)).order_by(Robot.serial)
        )
    )


@api_view(
    "robots.robots",
    request_method="POST",
    body=RobotIn,
    response=RobotWithSecret,
    status=201,
    permission=MANAGE,
    responses={409: "Serial taken"},
)
def register_robot(request: Any, body: RobotIn) -> dict[str, Any]:
    """Register a robot; its secret is in this answer and nowhere else."""
    ensure_unique(request.db, Robot.serial, body.serial)
    owner = _user(request, body.owner_id, "owner_id") if body.owner_id is not None else request.identity.user
    secret, secret_hash = new_secret()
    robot = Robot(serial=body.serial, name=body.name, owner=owner, secret_hash=secret_hash)
    request.db.add(robot)
    request.db.flush()
    request.db.refresh(robot)  # connected, connected_since
    return {**RobotOut.model_validate(robot).model_dump(), "secret": secret}


@api_view("robots.robot", response=RobotOut)
def get_robot(request: Any) -> Robot:
    """One robot, with whether it is connected now."""
    return _robot(request)


@api_view("robots.robot", request_method="PATCH", body=RobotUpdate, response=RobotOut, permission=MANAGE)
def rename_robot(request: Any, body: RobotUpdate) -> Robot:
    """Rename a robot (managers)."""
    robot = _robot(request)
    robot.name = body.name
    return robot


@api_view("robots.robot", request_method="DELETE", status=204, permission=MANAGE)
def delete_robot(request: Any) -> None:
    """Delete a robot with its history (managers). A connected robot keeps its session until it leaves."""
    request.db.delete(_robot(request))


@api_view("robots.secret", request_method="POST", response=SecretOut)
def rotate_robot_secret(request: Any) -> dict[str, str]:
    """Give the robot a new secret (owner, managers); the old one and its unused tokens stop working."""
    return {"secret": rotate_secret(request.db, _owned_robot(request))}


# -- sharing -----------------------------------------------------------------------


@api_view("robots.shares", response=list[UserRef])
def list_shares(request: Any) -> list[User]:
    """The users the robot is shared with, besides its owner."""
    return _robot(request).shared_with


@api_view(
    "robots.shares",
    request_method="POST",
    body=ShareIn,
    response=UserRef,
    status=201,
    responses={409: "Already shared"},
)
def share_robot(request: Any, body: ShareIn) -> User:
    """Share the robot with a user (owner, managers)."""
    robot = _owned_robot(request)
    user = _user(request, body.user_id, "user_id")
    if user.id == robot.owner_id or request.db.get(Share, (robot.id, user.id)):
        raise Conflict(
            "the robot is shared with this user already", [{"field": "user_id", "message": "already shared"}]
        )
    request.db.add(Share(robot_id=robot.id, user_id=user.id))
    return user


@api_view("robots.share", request_method="DELETE", status=204)
def unshare_robot(request: Any) -> None:
    """Stop sharing the robot with a user (owner, managers). Live status they watch stops at their next subscription."""
    robot = _owned_robot(request)
    share = request.db.get(Share, (robot.id, int(request.matchdict["user_id"])))
    if share is None:
        raise HTTPNotFound("the robot is not shared with this user")
    request.db.delete(share)


# -- joining the router ------------------------------------------------------------


@api_view(
    "robots.token",
    request_method="POST",
    body=TokenIn,
    response=TokenOut,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Wrong serial or secret", 429: "Too many refused requests"},
)
def join_token(request: Any, body: TokenIn) -> Any:
    """A robot's serial and secret for a single-use token to join the router with (WAMP-ticket)."""
    config = robots_settings(request.registry.settings)
    try:
        token, _ = issue_token(request.db, config, body.serial, body.secret, request.client_addr or "unknown")
    except TooManyAttempts as exc:
        return error_response(429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    except WrongCredentials:
        # Returned, not raised, so the recorded failure is committed and counts.
        return error_response(401, "wrong serial or secret")
    router = realtime_settings(request.registry.settings)
    return {"token": token, "expires_in": config.token_ttl, "url": router.websocket_url, "realm": router.realm}


# -- commands ----------------------------------------------------------------------

commands_listing = Listing(
    key=Command.id,
    ordering={"id": Command.id, "created_at": Command.created_at},
    default_ordering="-id",
    filters={"command": Filter(Command.command, RobotState)},
)


@api_view("robots.commands", request_method="POST", body=CommandIn, response=CommandOut, status=201)
def send_command(request: Any, body: CommandIn) -> Command:
    """Send a command to the robot: now if it is connected, else when it reconnects within ``robots.command_ttl``."""
    robot = _robot(request)
    ttl = robots_settings(request.registry.settings).command_ttl
    command = Command(
        robot_id=robot.id,
        command=body.command,
        sent_by=request.identity.user,
        stored_status=CommandStatus.queued,
        expires_at=utcnow() + dt.timedelta(seconds=ttl),
    )
    request.db.add(command)
    request.db.flush()
    request.realtime.publish(command_topic(robot.id), command_message(command))
    return command


@api_view("robots.commands", query=commands_listing, response=Page[CommandOut])
def command_history(request: Any, query: Any) -> dict[str, Any]:
    """The commands sent to the robot, newest first, with their delivery status."""
    robot = _robot(request)
    return query.page(select(Command).options(joinedload(Command.sent_by)).where(Command.robot_id == robot.id))


# -- positions ---------------------------------------------------------------------

positions_listing = Listing(
    key=Frame.id,
    ordering={"timestamp": Frame.timestamp, "frame_id": Frame.frame_id},
    default_ordering="-timestamp",
    filters={
        "since": Filter(Frame.timestamp, Timestamp, "gte", description="taken at or after (robot's clock)"),
        "until": Filter(Frame.timestamp, Timestamp, "lte", description="taken at or before (robot's clock)"),
        "state": Filter(Frame.state, RobotState),
    },
    default_limit=50,
    max_limit=1000,
)


@api_view("robots.positions", query=positions_listing, response=Page[PositionOut])
def position_history(request: Any, query: Any) -> dict[str, Any]:
    """The robot's positions, newest first; ``since`` and ``until`` bound the time (robot's clock)."""
    robot = _robot(request)
    return query.page(select(Frame).where(Frame.robot_id == robot.id, Frame.type == FrameType.position))
