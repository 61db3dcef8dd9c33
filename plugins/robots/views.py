"""``/api/robots``: robots, sharing, join tokens, commands and position history.

Each view validates, calls the use case in :mod:`.services` (where the rules
and permission checks are) and answers.
"""

from __future__ import annotations

from typing import Any

from pyramid.security import NO_PERMISSION_REQUIRED

from pyramidion.api import Filter, Listing, Page, Timestamp, api_view, error_response
from pyramidion.auth import Identity, TooManyAttempts, User, UserRef
from pyramidion.realtime import realtime_settings
from pyramidion.request import Request

from . import services
from .models import Command, Frame, Robot, RobotState
from .schemas import (
    CommandIn,
    CommandOut,
    PositionOut,
    RobotIn,
    RobotOut,
    RobotPatch,
    RobotWithSecret,
    SecretOut,
    ShareIn,
    TokenIn,
    TokenOut,
)
from .services import MANAGE
from .settings import robots_settings


def _caller(request: Request) -> Identity:
    return request.identity


# -- robots ------------------------------------------------------------------------


@api_view("robots.robots", query=services.robots_listing, response=Page[RobotOut])
def list_robots(request: Request, query: Any) -> dict[str, Any]:
    """Your robots (owned or shared with you); managers see every robot."""
    return query.page(services.visible_robots(request.db, _caller(request)))


@api_view("robots.mine", query=services.own_robots_listing, response=Page[RobotOut])
def my_robots(request: Request, query: Any) -> dict[str, Any]:
    """The robots you own or that are shared with you, whoever you are (managers too)."""
    return query.page(services.own_robots(_caller(request)))


@api_view(
    "robots.robots",
    request_method="POST",
    body=RobotIn,
    response=RobotWithSecret,
    status=201,
    permission=MANAGE,
    responses={409: "Serial taken"},
)
def register_robot(request: Request, body: RobotIn) -> dict[str, Any]:
    """Register a robot; its secret is in this answer and nowhere else."""
    robot, secret = services.register_robot(request.db, _caller(request), body.serial, body.name, body.owner_id)
    return {**RobotOut.model_validate(robot).model_dump(), "secret": secret}


@api_view("robots.robot", response=RobotOut)
def get_robot(request: Request) -> Robot:
    """One robot, with whether it is connected now."""
    return services.robot_for(request.db, _caller(request), request.matchdict["id"])


@api_view("robots.robot", request_method="PATCH", body=RobotPatch, response=RobotOut, permission=MANAGE)
def rename_robot(request: Request, body: RobotPatch) -> Robot:
    """Rename a robot (managers); a field left out stays as it is."""
    robot_id = request.matchdict["id"]
    changes = body.changes()
    if "name" in changes:
        return services.rename_robot(request.db, _caller(request), robot_id, changes["name"])
    return services.robot_for(request.db, _caller(request), robot_id)


@api_view("robots.robot", request_method="DELETE", status=204, permission=MANAGE)
def delete_robot(request: Request) -> None:
    """Delete a robot with its history (managers); its WAMP sessions and its watchers' subscriptions end."""
    services.delete_robot(request.db, _caller(request), request.matchdict["id"], realtime=request.realtime)


@api_view("robots.secret", request_method="POST", response=SecretOut)
def rotate_robot_secret(request: Request) -> dict[str, str]:
    """Give the robot a new secret (owner, managers); the old one and its unused tokens stop working."""
    secret = services.rotate_secret(request.db, _caller(request), request.matchdict["id"])
    return {"secret": secret}


# -- sharing -----------------------------------------------------------------------


@api_view("robots.shares", response=list[UserRef])
def list_shares(request: Request) -> list[User]:
    """The users the robot is shared with, besides its owner (a robot has a handful: not paginated)."""
    return services.shares_of(request.db, _caller(request), request.matchdict["id"])


@api_view(
    "robots.shares",
    request_method="POST",
    body=ShareIn,
    response=UserRef,
    status=201,
    responses={409: "Already shared"},
)
def share_robot(request: Request, body: ShareIn) -> User:
    """Share the robot with a user, named by ``user_id`` or ``username`` (owner, managers)."""
    return services.share_robot(
        request.db, _caller(request), request.matchdict["id"], user_id=body.user_id, username=body.username
    )


@api_view("robots.share", request_method="DELETE", status=204)
def unshare_robot(request: Request) -> None:
    """Stop sharing the robot with a user (owner, managers); their live status subscription ends."""
    robot_id, user_id = request.matchdict["id"], request.matchdict["user_id"]
    services.unshare_robot(request.db, _caller(request), robot_id, user_id, realtime=request.realtime)


# -- joining the router ------------------------------------------------------------


@api_view(
    "robots.token",
    request_method="POST",
    body=TokenIn,
    response=TokenOut,
    permission=NO_PERMISSION_REQUIRED,
    responses={401: "Wrong serial or secret", 429: "Too many refused requests"},
)
def join_token(request: Request, body: TokenIn) -> Any:
    """A robot's serial and secret for a single-use token to join the router with (WAMP-ticket)."""
    config = robots_settings(request.registry.settings)
    address = request.client_addr or "unknown"
    try:
        ticket = services.issue_join_token(request.db, config, body.serial, body.secret, address)
    except TooManyAttempts as exc:
        return error_response(429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    except services.WrongCredentials:
        # Returned, not raised, so the recorded failure is committed and counts.
        return error_response(401, "wrong serial or secret")
    router = realtime_settings(request.registry.settings)
    return {"token": ticket.token, "expires_in": config.token_ttl, "url": router.websocket_url, "realm": router.realm}


# -- commands ----------------------------------------------------------------------

commands_listing = Listing(
    key=Command.id,
    ordering={"id": Command.id, "created_at": Command.created_at},
    default_ordering="-id",
    filters={"command": Filter(Command.command, RobotState)},
)


@api_view("robots.commands", request_method="POST", body=CommandIn, response=CommandOut, status=201)
def send_command(request: Request, body: CommandIn) -> Command:
    """Send a command to the robot: now if it is connected, else when it reconnects within ``robots.command_ttl``."""
    ttl = robots_settings(request.registry.settings).command_ttl
    return services.send_command(
        request.db, _caller(request), request.matchdict["id"], body.command, ttl=ttl, realtime=request.realtime
    )


@api_view("robots.commands", query=commands_listing, response=Page[CommandOut])
def command_history(request: Request, query: Any) -> dict[str, Any]:
    """The commands sent to the robot, newest first, with their delivery status."""
    return query.page(services.commands_of(request.db, _caller(request), request.matchdict["id"]))


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
def position_history(request: Request, query: Any) -> dict[str, Any]:
    """The robot's positions, newest first; ``since`` and ``until`` bound the time (robot's clock)."""
    return query.page(services.positions_of(request.db, _caller(request), request.matchdict["id"]))
