"""The robots plugin's rules: one function per use case, for the API, the console and the realtime backend.

Who may do what with a robot:

* see it, command it, read its commands and positions, watch its live status:
  its owner, the users it is shared with, and managers (``robots.manage``,
  superusers);
* share it, stop sharing it and rotate its secret: its owner and managers;
* register, rename and delete robots: managers.

Functions of the people's side take the session and the caller (the
:class:`~pyramidion.auth.Identity` of the user acting) and raise the API's
errors (404 no such robot, 403, 409, 422). The robots' side (join tokens,
pending commands, command reports, connections) takes the robot as the
router authenticated it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import Select, delete, exists, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from pyramidion.api import Conflict, Filter, Invalid, Listing, ensure_unique, get_or_404
from pyramidion.auth import Identity, Throttle, User, hash_secret, secret_matches, users_by_username
from pyramidion.db import utcnow
from pyramidion.realtime import owned_uri

from .models import Command, CommandStatus, Connection, Frame, FrameType, JoinToken, Robot, RobotState, Share
from .settings import RobotsSettings

MANAGE = "robots.manage"
ROBOT_ROLE = "robot"  # robots join the router in this role, as ``robot:<id>``
SECRET_BYTES = 32
WITH_OWNER = joinedload(Robot.owner)

# What a robot may report about a command, and from which stored status.
REPORTABLE = {
    CommandStatus.delivered: {CommandStatus.queued},
    CommandStatus.acknowledged: {CommandStatus.queued, CommandStatus.delivered},
    CommandStatus.failed: {CommandStatus.queued, CommandStatus.delivered},
}


# -- who may see what ----------------------------------------------------------------


def is_manager(db: Any, caller: Identity) -> bool:
    """Managers see and manage every robot."""
    return caller.holds(db, MANAGE)


def robots_of(user_id: int) -> ColumnElement[bool]:
    """A clause true for the robots ``user_id`` owns or has been given."""
    shared = exists().where(Share.robot_id == Robot.id, Share.user_id == user_id)
    return or_(Robot.owner_id == user_id, shared)


def visible_robots(db: Any, caller: Identity) -> Select:
    """The robots the caller may see: their own and those shared with them; every robot for managers."""
    statement = select(Robot).options(WITH_OWNER)
    return statement if is_manager(db, caller) else statement.where(robots_of(caller.user.id))


def own_robots(caller: Identity) -> Select:
    """The robots the caller owns or that are shared with them, whoever they are (managers too)."""
    return select(Robot).options(WITH_OWNER).where(robots_of(caller.user.id))


# What may be asked of the lists of robots, by the API and the console alike.
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
own_robots_listing = Listing(key=Robot.id, ordering=robots_listing.ordering, default_ordering="serial")


def robot_for(db: Any, caller: Identity, robot_id: Any) -> Robot:
    """The robot, if the caller may use it: 404 when there is none, 403 when it is not shared with them."""
    robot = _robot(db, robot_id)
    if not may_use(db, caller, robot):
        raise HTTPForbidden("this robot is not shared with you")
    return robot


def owned_robot_for(db: Any, caller: Identity, robot_id: Any) -> Robot:
    """The robot, if the caller owns it or is a manager (403 for the users it is only shared with)."""
    robot = robot_for(db, caller, robot_id)
    if not may_manage(db, caller, robot):
        raise HTTPForbidden("only the robot's owner or a manager may do this")
    return robot


def may_use(db: Any, caller: Identity, robot: Robot) -> bool:
    """Whether the caller may see, watch and command ``robot``."""
    if robot.owner_id == caller.user.id or db.get(Share, (robot.id, caller.user.id)) is not None:
        return True
    return is_manager(db, caller)


def may_watch(db: Any, user_id: int, robot_id: int) -> bool:
    """Whether the user (joined to the router with an access token) may follow the robot's live status."""
    user = db.get(User, user_id)
    robot = db.get(Robot, robot_id)
    if user is None or not user.is_active or robot is None:
        return False
    return may_use(db, Identity(user=user, via="token"), robot)


def may_manage(db: Any, caller: Identity, robot: Robot) -> bool:
    """Whether the caller may share the robot and rotate its secret (its owner, managers)."""
    return robot.owner_id == caller.user.id or is_manager(db, caller)


def _robot(db: Any, robot_id: Any) -> Robot:
    return get_or_404(db, Robot, robot_id, WITH_OWNER, what="robot")


def _manager_only(db: Any, caller: Identity) -> None:
    if not is_manager(db, caller):
        raise HTTPForbidden("only robot managers may do this")


# -- registering, renaming, deleting ---------------------------------------------


def new_secret() -> tuple[str, str]:
    """A fresh secret and the digest to store.

    Hexadecimal: a URL-safe secret may begin with "-", which a command line
    (``robot-sim --secret ...``) takes for an option.
    """
    secret = secrets.token_hex(SECRET_BYTES)
    return secret, hash_secret(secret)


def register_robot(
    db: Any, caller: Identity, serial: str, name: str = "", owner_id: int | None = None
) -> tuple[Robot, str]:
    """Register a robot (managers): the robot and its secret, which is shown this once and stored only hashed."""
    _manager_only(db, caller)
    ensure_unique(db, Robot.serial, serial)
    owner = _user(db, owner_id, "owner_id") if owner_id is not None else caller.user
    secret, secret_hash = new_secret()
    robot = Robot(serial=serial, name=name, owner=owner, secret_hash=secret_hash)
    db.add(robot)
    db.flush()
    db.refresh(robot)  # connected, connected_since
    return robot, secret


def rename_robot(db: Any, caller: Identity, robot_id: Any, name: str) -> Robot:
    """Rename a robot (managers)."""
    _manager_only(db, caller)
    robot = _robot(db, robot_id)
    robot.name = name
    return robot


def access_ended_topic() -> str:
    """Where the platform tells the robots backend that a right went away (only the platform publishes there)."""
    return "pyramidion.robots.access_ended"


def delete_robot(db: Any, caller: Identity, robot_id: Any, *, realtime: Any) -> None:
    """Delete a robot with its history (managers).

    Once committed, the backend ends the robot's WAMP sessions and its
    watchers' subscriptions (``realtime`` is ``request.realtime``).
    """
    _manager_only(db, caller)
    robot = _robot(db, robot_id)
    db.delete(robot)
    realtime.publish(access_ended_topic(), {"robot_id": robot.id, "user_id": None})


def rotate_secret(db: Any, caller: Identity, robot_id: Any) -> str:
    """A new secret for the robot (owner, managers), returned this once.

    The old secret and its unused join tokens stop working at once.
    """
    robot = owned_robot_for(db, caller, robot_id)
    secret, robot.secret_hash = new_secret()
    robot.secret_changed_at = utcnow()
    db.execute(delete(JoinToken).where(JoinToken.robot_id == robot.id, JoinToken.used_at.is_(None)))
    return secret


# -- sharing -------------------------------------------------------------------------


def shares_of(db: Any, caller: Identity, robot_id: Any) -> list[User]:
    """The users the robot is shared with, besides its owner."""
    return robot_for(db, caller, robot_id).shared_with


def share_robot(
    db: Any, caller: Identity, robot_id: Any, *, user_id: int | None = None, username: str | None = None
) -> User:
    """Share the robot (owner, managers) with a user named by id or by username; 409 when shared already.

    A username is compared as logins are (``Friend`` is ``friend``) and names an active user.
    """
    robot = owned_robot_for(db, caller, robot_id)
    if username is not None:
        user = users_by_username(db, [username]).get(username)
        if user is None:
            raise Invalid.field("username", "no such user")
        field = "username"
    else:
        user, field = _user(db, user_id, "user_id"), "user_id"
    if user.id == robot.owner_id or db.get(Share, (robot.id, user.id)):
        raise Conflict("the robot is shared with this user already", [{"field": field, "message": "already shared"}])
    db.add(Share(robot_id=robot.id, user_id=user.id))
    db.flush()
    db.expire(robot, ["shared_with"])
    return user


def unshare_robot(db: Any, caller: Identity, robot_id: Any, user_id: Any, *, realtime: Any) -> None:
    """Stop sharing the robot with a user (owner, managers); 404 when it was not shared with them.

    Once committed, the backend ends the user's subscription to the robot's
    status, unless they may still use it (a manager).
    """
    robot = owned_robot_for(db, caller, robot_id)
    share = db.get(Share, (robot.id, int(user_id)))
    if share is None:
        raise HTTPNotFound("the robot is not shared with this user")
    db.delete(share)
    db.flush()
    db.expire(robot, ["shared_with"])
    realtime.publish(access_ended_topic(), {"robot_id": robot.id, "user_id": share.user_id})


def _user(db: Any, user_id: int | None, field: str) -> User:
    user = db.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Invalid.field(field, "no such user")
    return user


# -- joining the router --------------------------------------------------------------


class WrongCredentials(Exception):
    """Serial or secret wrong; deliberately not saying which."""


@dataclasses.dataclass(frozen=True)
class JoinTicket:
    token: str
    robot: Robot


def _token_throttle(config: RobotsSettings) -> Throttle:
    return Throttle("robots.token", config.token_max_failures, config.token_failure_window)


def _throttled_as(serial: str, address: str) -> str:
    """What refusals are counted by: the serial together with the address.

    Ten wrong secrets for one serial then slow down only that serial from
    that address, never the other robots behind the same address (a
    factory's NAT) nor the robot itself elsewhere. Secrets are 256 random
    bits: the throttle limits noise, guessing is hopeless anyway. The core's
    throttle counts names and addresses apart, so both get the same key
    (hashed: it must fit the address column).
    """
    return hash_secret(f"{serial}\n{address}")


def issue_join_token(db: Any, config: RobotsSettings, serial: str, secret: str, address: str) -> JoinTicket:
    """A single-use join token for the robot ``serial`` if ``secret`` is its secret.

    Raises :class:`~pyramidion.auth.TooManyAttempts` once this serial from
    this address reached the limit of refused requests in the window, and
    :class:`WrongCredentials` for a wrong serial or secret, recording the
    refusal (the caller commits it).
    """
    throttle, key = _token_throttle(config), _throttled_as(serial, address)
    throttle.check(db, key, key)
    robot = db.scalar(select(Robot).where(Robot.serial == serial))
    # Compared even for an unknown serial, so timing does not tell serials apart.
    if not secret_matches(secret, robot.secret_hash if robot else None) or robot is None:
        throttle.record(db, key, key)
        raise WrongCredentials()
    token = secrets.token_urlsafe(SECRET_BYTES)
    expires_at = utcnow() + dt.timedelta(seconds=config.token_ttl)
    db.add(JoinToken(robot_id=robot.id, token_hash=hash_secret(token), expires_at=expires_at))
    return JoinTicket(token, robot)


def redeem_join_token(db: Any, token: str) -> Robot | None:
    """The robot of an unused, unexpired ``token``, which is spent by this call.

    A conditional update: of two joins racing with one token, exactly one wins.
    """
    now = utcnow()
    robot_id = db.scalar(
        update(JoinToken)
        .where(JoinToken.token_hash == hash_secret(token), JoinToken.used_at.is_(None), JoinToken.expires_at > now)
        .values(used_at=now)
        .returning(JoinToken.robot_id)
    )
    return db.get(Robot, robot_id) if robot_id is not None else None


def purge_join_tokens(db: Any) -> None:
    """Spent and expired join tokens are of no use to anyone."""
    db.execute(delete(JoinToken).where(or_(JoinToken.expires_at < utcnow(), JoinToken.used_at.is_not(None))))


# -- commands ------------------------------------------------------------------------


def command_topic(robot_id: int) -> str:
    """Where a robot receives its commands (only it may subscribe)."""
    return owned_uri("robots", ROBOT_ROLE, robot_id, "command")


def status_topic(robot_id: int) -> str:
    """Where the users of a robot follow its live status (the plugin's authorizer decides who)."""
    return owned_uri("robots", ROBOT_ROLE, robot_id, "status")


def command_message(command: Command) -> dict[str, Any]:
    """A command as robots receive it."""
    return {"id": command.id, "command": command.command.value, "expires_at": command.expires_at}


def send_command(db: Any, caller: Identity, robot_id: Any, command: RobotState, *, ttl: int, realtime: Any) -> Command:
    """Send a command to the robot: now if it is connected, else when it reconnects within ``ttl`` seconds.

    ``realtime`` is ``request.realtime``: the robot gets the command once the
    transaction commits. Its watchers hear of it too, so a console page shows it at once.
    """
    robot = robot_for(db, caller, robot_id)
    sent = Command(
        robot_id=robot.id,
        command=command,
        sent_by=caller.user,
        stored_status=CommandStatus.queued,
        expires_at=utcnow() + dt.timedelta(seconds=ttl),
    )
    db.add(sent)
    db.flush()
    realtime.publish(command_topic(robot.id), command_message(sent))
    realtime.publish(status_topic(robot.id), command_event(sent))
    return sent


def command_event(command: Command) -> dict[str, Any]:
    """A command's status as watchers receive it on the robot's status topic."""
    return {
        "robot_id": command.robot_id,
        "command": {
            "id": command.id,
            "command": command.command.value,
            "status": command.status.value,
            "sent_by": {"username": command.sent_by.username} if command.sent_by else None,
            "created_at": command.created_at,
        },
    }


def commands_of(db: Any, caller: Identity, robot_id: Any) -> Select:
    """The commands sent to the robot (for a listing)."""
    robot = robot_for(db, caller, robot_id)
    return select(Command).options(joinedload(Command.sent_by)).where(Command.robot_id == robot.id)


def pending_commands(db: Any, robot_id: int) -> list[Command]:
    """The commands still waiting for the robot, oldest first."""
    return list(
        db.scalars(
            select(Command)
            .where(
                Command.robot_id == robot_id,
                Command.stored_status == CommandStatus.queued,
                Command.expires_at > utcnow(),
            )
            .order_by(Command.id)
        )
    )


class CommandReportRefused(ValueError):
    """A robot's report on a command that cannot be taken: the message says why."""


def report_command_status(db: Any, robot_id: int, command_id: Any, status: Any, message: Any = None) -> Command:
    """Record what the robot reports on one of its commands: ``delivered``, ``acknowledged`` or ``failed``.

    Reporting the status a command has already is accepted (a robot resending
    a report whose answer it missed); going back is refused.
    """
    try:
        reported = CommandStatus(status)
        allowed_from = REPORTABLE[reported]
    except (ValueError, KeyError):
        raise CommandReportRefused("status must be delivered, acknowledged or failed") from None
    if not isinstance(command_id, int) or isinstance(command_id, bool):
        raise CommandReportRefused("command_id must be an integer")
    if message is not None and not isinstance(message, str):
        raise CommandReportRefused("message must be a string")
    now = utcnow()
    times = {"delivered_at": now} if reported == CommandStatus.delivered else {"finished_at": now}
    # The write comes first: a backend transaction begins deferred on SQLite,
    # and reading before writing there could fail against a concurrent writer.
    changed = db.execute(
        update(Command)
        .where(Command.id == command_id, Command.robot_id == robot_id, Command.stored_status.in_(allowed_from))
        .values(stored_status=reported, message=message[:2000] if message else None, **times)
    ).rowcount
    command = db.scalar(select(Command).where(Command.id == command_id, Command.robot_id == robot_id))
    if command is None:
        raise CommandReportRefused(f"no command {command_id} for this robot")
    if not changed and command.stored_status != reported:
        raise CommandReportRefused(
            f"command {command_id} is {command.stored_status.value}; it cannot become {reported.value}"
        )
    return command


# -- positions -----------------------------------------------------------------------


def positions_of(db: Any, caller: Identity, robot_id: Any) -> Select:
    """The robot's position frames (for a listing)."""
    robot = robot_for(db, caller, robot_id)
    return select(Frame).where(Frame.robot_id == robot.id, Frame.type == FrameType.position)


def last_positions(db: Any, robot_ids: list[int]) -> dict[int, Frame]:
    """The newest position of each of the robots (by the robot's clock), for those that sent one."""
    if not robot_ids:
        return {}
    newest = (
        select(Frame.robot_id, func.max(Frame.timestamp).label("timestamp"))
        .where(Frame.robot_id.in_(robot_ids), Frame.type == FrameType.position)
        .group_by(Frame.robot_id)
        .subquery()
    )
    frames = db.scalars(
        select(Frame)
        .join(newest, (Frame.robot_id == newest.c.robot_id) & (Frame.timestamp == newest.c.timestamp))
        .where(Frame.type == FrameType.position)
        .order_by(Frame.id)
    )
    return {frame.robot_id: frame for frame in frames}


# -- connection state (the router's session events) ----------------------------------


def robot_connected(db: Any, robot_id: int, session_id: int) -> None:
    """The robot joined the router with this WAMP session."""
    insert = (postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert)(Connection)
    db.execute(insert.values(session_id=session_id, robot_id=robot_id, joined_at=utcnow()).on_conflict_do_nothing())


def robot_disconnected(db: Any, robot_id: int, session_id: int) -> bool:
    """The robot's WAMP session ended; whether the robot has no other session left (it is disconnected now)."""
    db.execute(delete(Connection).where(Connection.session_id == session_id))
    return db.scalar(select(Connection.session_id).where(Connection.robot_id == robot_id).limit(1)) is None


def forget_stale_connections(db: Any, open_sessions: list[int]) -> list[int]:
    """Forget every robot session the router no longer has; the robots left with none (disconnected now)."""
    gone = not_(Connection.session_id.in_(open_sessions))
    stale = set(db.scalars(select(Connection.robot_id).where(gone)))
    if not stale:
        return []
    db.execute(delete(Connection).where(gone))
    still_connected = set(db.scalars(select(Connection.robot_id).where(Connection.robot_id.in_(stale))))
    return sorted(stale - still_connected)
