"""The robots' side of the WAMP backend session.

A robot joins with its join token as WAMP-ticket (role ``robot``, authid
``robot:<id>``) and then uses, besides the URIs it owns:

* ``pyramidion.robots.frame(frame)``: store a data frame; answers
  ``{"status": "ok", "id": <frame id>}`` once the frame is committed, or the
  error ``pyramidion.robots.invalid_frame`` naming what is wrong (the robot
  stays connected);
* ``pyramidion.robots.pending_commands()``: the commands still valid for it,
  oldest first; called after subscribing to its command topic (so nothing sent
  in between is missed);
* ``pyramidion.robots.command_status(command_id, status, message=None)``:
  ``delivered``, ``acknowledged`` or ``failed``.

Commands reach the robot on ``pyramidion.robots.robot.<id>.command`` (only
it may subscribe there). Users subscribe to
``pyramidion.robots.robot.<id>.status`` of the robots they may use: frames
(``{"robot_id", "frame"}``) and connection changes (``{"robot_id",
"connected"}``).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from autobahn.wamp.exception import ApplicationError
from sqlalchemy import delete, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pyramidion.auth.models import User
from pyramidion.db import utcnow
from pyramidion.realtime import BackendSession, Caller, Principal, owned_uri

from .access import may_use
from .credentials import redeem_token
from .frames import FrameWriter, PendingFrame
from .models import Command, CommandStatus, Connection
from .schemas import InvalidFrame, parse_frame
from .settings import robots_settings

ROLE = "robot"
FRAME = "pyramidion.robots.frame"
PENDING_COMMANDS = "pyramidion.robots.pending_commands"
COMMAND_STATUS = "pyramidion.robots.command_status"

INVALID_FRAME = "pyramidion.robots.invalid_frame"
NOT_STORED = "pyramidion.robots.not_stored"
INVALID_COMMAND_STATUS = "pyramidion.robots.invalid_command_status"

STATUS_TOPIC = re.compile(r"^pyramidion\.robots\.robot\.(\d+)\.status$")

# What a robot may report about a command, and from which stored status.
REPORTABLE = {
    CommandStatus.delivered: {CommandStatus.queued},
    CommandStatus.acknowledged: {CommandStatus.queued, CommandStatus.delivered},
    CommandStatus.failed: {CommandStatus.queued, CommandStatus.delivered},
}


def status_topic(robot_id: int) -> str:
    return owned_uri("robots", ROLE, robot_id, "status")


def command_topic(robot_id: int) -> str:
    return owned_uri("robots", ROLE, robot_id, "command")


def command_message(command: Command) -> dict[str, Any]:
    """A command as robots receive it."""
    return {"id": command.id, "command": command.command.value, "expires_at": command.expires_at}


def _robot_id(caller: Caller) -> int:
    return int(caller.id)


class LiveStatus:
    """Stored frames, published to the robots' status topics at most once per ``interval`` seconds.

    Watchers get the newest frame of each kind of each robot that sent one
    since the last publication: a screen needs no more than that, and
    publishing every frame would double the router's work at full rate.
    """

    def __init__(self, session: BackendSession, interval: float) -> None:
        self.session = session
        self.interval = interval
        self._latest: dict[tuple[int, int], PendingFrame] = {}
        self._lock = threading.Lock()
        self._scheduled = False

    def update(self, batch: list[PendingFrame]) -> None:
        with self._lock:
            for pending in batch:
                key = (pending.robot_id, pending.frame.type)
                known = self._latest.get(key)
                if known is None or pending.frame.timestamp >= known.frame.timestamp:  # the robot's clock decides
                    self._latest[key] = pending
            if not self._scheduled:
                self._scheduled = True
                timer = threading.Timer(self.interval, self._publish)
                timer.daemon = True
                timer.start()

    def _publish(self) -> None:
        with self._lock:
            latest, self._latest, self._scheduled = self._latest, {}, False
        for pending in latest.values():
            self.session.publish(
                status_topic(pending.robot_id), {"robot_id": pending.robot_id, "frame": pending.frame.model_dump(mode="json")}
            )


class RobotsBackend:
    """Everything the robots plugin serves on the backend session of one process."""

    def __init__(self, session: BackendSession) -> None:
        self.session = session
        self.config = robots_settings(session.registry.settings)
        self.live = LiveStatus(session, self.config.status_interval)
        self.frames = FrameWriter(session.registry.db_engine, self.live.update, self.config.frame_batch_size)

    def declare(self) -> None:
        session = self.session
        session.add_authenticator(self.principal, role=ROLE)
        session.register_procedure(FRAME, self.receive_frame, roles=[ROLE])
        session.register_procedure(PENDING_COMMANDS, self.pending_commands, roles=[ROLE])
        session.register_procedure(COMMAND_STATUS, self.command_status, roles=[ROLE])
        session.add_authorizer(self.may_watch)
        session.on_session_join(self.robot_joined)
        session.on_session_leave(self.robot_left)
        session.on_backend_join(self.forget_stale_connections)

    # -- joining ---------------------------------------------------------------------

    def principal(self, request: Any, ticket: str) -> Principal | None:
        robot = redeem_token(request.db, ticket)
        return Principal(ROLE, robot.id, {"serial": robot.serial, "name": robot.name}) if robot else None

    def may_watch(self, request: Any, caller: Caller, uri: str, action: str) -> bool | None:
        """Users may subscribe to the status of the robots they may use."""
        match = STATUS_TOPIC.match(uri)
        if match is None or action != "subscribe" or caller.user_id is None:
            return None
        user = request.db.get(User, caller.user_id)
        return user is not None and user.is_active and may_use(request.db, user, int(match.group(1)))

    # -- frames ----------------------------------------------------------------------

    def receive_frame(self, request: Any, caller: Caller, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if len(args) != 1 or kwargs:
            raise ApplicationError(INVALID_FRAME, "send exactly one frame, as the only positional argument")
        try:
            frame = parse_frame(args[0])
        except InvalidFrame as exc:
            raise ApplicationError(INVALID_FRAME, str(exc)) from None
        stored = self.frames.submit(_robot_id(caller), frame)
        try:
            stored.result(timeout=self.config.frame_ack_timeout)
        except Exception:  # the writer's failure, or no commit within the timeout
            # Not acknowledged, so the robot sends it again; a frame that was
            # stored after all is not stored twice.
            raise ApplicationError(NOT_STORED, f"frame {frame.id} could not be stored now; send it again") from None
        return {"status": "ok", "id": frame.id}

    # -- commands --------------------------------------------------------------------

    def pending_commands(self, request: Any, caller: Caller) -> list[dict[str, Any]]:
        commands = request.db.scalars(
            select(Command)
            .where(
                Command.robot_id == _robot_id(caller),
                Command.stored_status == CommandStatus.queued,
                Command.expires_at > utcnow(),
            )
            .order_by(Command.id)
        )
        return [command_message(command) for command in commands]

    def command_status(
        self, request: Any, caller: Caller, command_id: Any = None, status: Any = None, message: Any = None
    ) -> dict[str, Any]:
        try:
            reported = CommandStatus(status)
            allowed_from = REPORTABLE[reported]
        except (ValueError, KeyError):
            raise ApplicationError(INVALID_COMMAND_STATUS, "status must be delivered, acknowledged or failed") from None
        if not isinstance(command_id, int) or isinstance(command_id, bool):
            raise ApplicationError(INVALID_COMMAND_STATUS, "command_id must be an integer")
        if message is not None and not isinstance(message, str):
            raise ApplicationError(INVALID_COMMAND_STATUS, "message must be a string")
        now = utcnow()
        times = {"delivered_at": now} if reported == CommandStatus.delivered else {"finished_at": now}
        # The write comes first: a backend transaction begins deferred on SQLite,
        # and reading before writing there could fail against a concurrent writer.
        changed = request.db.execute(
            update(Command)
            .where(Command.id == command_id, Command.robot_id == _robot_id(caller), Command.stored_status.in_(allowed_from))
            .values(stored_status=reported, message=message[:2000] if message else None, **times)
        ).rowcount
        command = request.db.scalar(select(Command).where(Command.id == command_id, Command.robot_id == _robot_id(caller)))
        if command is None:
            raise ApplicationError(INVALID_COMMAND_STATUS, f"no command {command_id} for this robot")
        if not changed and command.stored_status != reported:
            raise ApplicationError(
                INVALID_COMMAND_STATUS, f"command {command_id} is {command.stored_status.value}; it cannot become {reported.value}"
            )
        return {"id": command.id, "status": command.stored_status.value}

    # -- connection state ------------------------------------------------------------

    def robot_joined(self, request: Any, caller: Caller) -> None:
        if caller.role != ROLE:
            return
        insert = (postgresql.insert if request.db.bind.dialect.name == "postgresql" else sqlite.insert)(Connection)
        request.db.execute(
            insert.values(session_id=caller.session, robot_id=_robot_id(caller), joined_at=utcnow()).on_conflict_do_nothing()
        )
        request.realtime.publish(status_topic(_robot_id(caller)), {"robot_id": _robot_id(caller), "connected": True})
        # Join and leave handlers may run in any order: if the robot left while
        # this one ran, the leave handler found nothing to delete, so do it here.
        request.tm.get().addAfterCommitHook(lambda committed: committed and self._forget_if_gone(caller))

    def _forget_if_gone(self, caller: Caller) -> None:
        if caller.session not in {client.session for client in self.session.clients}:
            with self.session.registry.db_engine.begin() as conn:
                conn.execute(delete(Connection).where(Connection.session_id == caller.session))

    def robot_left(self, request: Any, caller: Caller) -> None:
        if caller.role != ROLE:
            return
        request.db.execute(delete(Connection).where(Connection.session_id == caller.session))
        robot_id = _robot_id(caller)
        still_connected = request.db.scalar(select(Connection.session_id).where(Connection.robot_id == robot_id).limit(1))
        if still_connected is None:
            request.realtime.publish(status_topic(robot_id), {"robot_id": robot_id, "connected": False})

    def forget_stale_connections(self, request: Any, connected: list[Caller]) -> None:
        """After the backend (re)joins: robots not connected now left while it was away."""
        sessions = [caller.session for caller in connected if caller.role == ROLE]
        request.db.execute(delete(Connection).where(not_(Connection.session_id.in_(sessions))))
