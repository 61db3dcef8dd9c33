"""The robots' side of the WAMP backend session.

A robot joins with its join token as WAMP-ticket (role ``robot``, authid
``robot:<id>``) and then uses, besides the URIs it owns:

* ``pyramidion.robots.frame(frame)``: store a data frame; answers
  ``{"status": "ok", "id": <frame id>}`` once the frame is committed, or the
  error ``pyramidion.robots.invalid_frame`` naming what is wrong (the robot
  stays connected);
* ``pyramidion.robots.frames(frames)``: the same for a list of frames (what
  accumulated since the robot's last call), with one answer per frame, in
  order: the acknowledgement, or ``{"status": "error", "id", "error",
  "message"}`` for a frame that is invalid or could not be stored now;
* ``pyramidion.robots.pending_commands()``: the commands still valid for it,
  oldest first; called after subscribing to its command topic (so nothing sent
  in between is missed);
* ``pyramidion.robots.command_status(command_id, status, message=None)``:
  ``delivered``, ``acknowledged`` or ``failed``.

Both frame procedures run on the backend's event loop (no thread, no
transaction of their own): they validate the frames there and await the
:class:`~.frames.FrameWriter`, which commits frames of many calls at once.

Commands reach the robot on ``pyramidion.robots.robot.<id>.command`` (only
it may subscribe there). Users subscribe to
``pyramidion.robots.robot.<id>.status`` of the robots they may use: frames
(``{"robot_id", "frame"}``) and connection changes (``{"robot_id",
"connected"}``).
"""

from __future__ import annotations

import asyncio
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
from .frames import FrameWriter, Submission
from .models import Command, CommandStatus, Connection
from .schemas import InvalidFrame, parse_frame
from .settings import robots_settings

ROLE = "robot"
FRAME = "pyramidion.robots.frame"
FRAMES = "pyramidion.robots.frames"
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


def _acknowledgement(frame: Any) -> dict[str, Any]:
    return {"status": "ok", "id": frame.id}


def _refusal(frame: Any, error: str, message: str) -> dict[str, Any]:
    """The answer for one frame of a list that is not acknowledged (``frame`` parsed or as sent)."""
    frame_id = frame.get("id") if isinstance(frame, dict) else getattr(frame, "id", None)
    return {
        "status": "error",
        "id": frame_id if isinstance(frame_id, int) else None,
        "error": error,
        "message": message,
    }


class LiveStatus:
    """Stored frames, published to the robots' status topics at most once per ``interval`` seconds.

    Watchers get the newest frame of each kind of each robot that sent one
    since the last publication: a screen needs no more than that, and
    publishing every frame would double the router's work at full rate.
    """

    def __init__(self, session: BackendSession, interval: float) -> None:
        self.session = session
        self.interval = interval
        self._latest: dict[tuple[int, int], Any] = {}  # (robot id, frame type) -> parsed frame
        self._lock = threading.Lock()
        self._scheduled = False

    def update(self, batch: list[Submission]) -> None:
        with self._lock:
            for submission in batch:
                for frame in submission.frames:
                    key = (submission.robot_id, frame.type)
                    known = self._latest.get(key)
                    if known is None or frame.timestamp >= known.timestamp:  # the robot's clock decides
                        self._latest[key] = frame
            if not self._scheduled:
                self._scheduled = True
                timer = threading.Timer(self.interval, self._publish)
                timer.daemon = True
                timer.start()

    def _publish(self) -> None:
        with self._lock:
            latest, self._latest, self._scheduled = self._latest, {}, False
        for (robot_id, _), frame in latest.items():
            self.session.publish(status_topic(robot_id), {"robot_id": robot_id, "frame": frame.model_dump(mode="json")})


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
        session.register_async_procedure(FRAME, self.receive_frame, roles=[ROLE])
        session.register_async_procedure(FRAMES, self.receive_frames, roles=[ROLE])
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

    async def receive_frame(self, caller: Caller, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if len(args) != 1 or kwargs:
            raise ApplicationError(INVALID_FRAME, "send exactly one frame, as the only positional argument")
        try:
            frame = parse_frame(args[0])
        except InvalidFrame as exc:
            raise ApplicationError(INVALID_FRAME, str(exc)) from None
        if not await self._stored(caller, [frame]):
            raise ApplicationError(NOT_STORED, f"frame {frame.id} could not be stored now; send it again")
        return _acknowledgement(frame)

    async def receive_frames(self, caller: Caller, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if len(args) != 1 or kwargs or not isinstance(args[0], list):
            raise ApplicationError(INVALID_FRAME, "send one list of frames, as the only positional argument")
        if len(args[0]) > self.config.frame_batch_size:
            raise ApplicationError(INVALID_FRAME, f"send at most {self.config.frame_batch_size} frames per call")
        parsed: list[Any] = []  # per frame sent: the parsed frame, or the answer refusing it (a dict)
        for value in args[0]:
            try:
                parsed.append(parse_frame(value))
            except InvalidFrame as exc:
                parsed.append(_refusal(value, INVALID_FRAME, str(exc)))
        valid = [frame for frame in parsed if not isinstance(frame, dict)]
        stored = not valid or await self._stored(caller, valid)
        return [
            item
            if isinstance(item, dict)
            else _acknowledgement(item)
            if stored
            else _refusal(item, NOT_STORED, "not stored now; send it again")
            for item in parsed
        ]

    async def _stored(self, caller: Caller, frames: list[Any]) -> bool:
        """Whether ``frames`` were committed: the writer's failure or no commit within
        ``robots.frame_ack_timeout`` is False (the robot sends them again, and
        any that were stored after all are not stored twice)."""
        try:
            await asyncio.wait_for(self.frames.store(_robot_id(caller), frames), self.config.frame_ack_timeout)
        except Exception:
            return False
        return True

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
            .where(
                Command.id == command_id, Command.robot_id == _robot_id(caller), Command.stored_status.in_(allowed_from)
            )
            .values(stored_status=reported, message=message[:2000] if message else None, **times)
        ).rowcount
        command = request.db.scalar(
            select(Command).where(Command.id == command_id, Command.robot_id == _robot_id(caller))
        )
        if command is None:
            raise ApplicationError(INVALID_COMMAND_STATUS, f"no command {command_id} for this robot")
        if not changed and command.stored_status != reported:
            raise ApplicationError(
                INVALID_COMMAND_STATUS,
                f"command {command_id} is {command.stored_status.value}; it cannot become {reported.value}",
            )
        return {"id": command.id, "status": command.stored_status.value}

    # -- connection state ------------------------------------------------------------

    def robot_joined(self, request: Any, caller: Caller) -> None:
        if caller.role != ROLE:
            return
        insert = (postgresql.insert if request.db.bind.dialect.name == "postgresql" else sqlite.insert)(Connection)
        request.db.execute(
            insert.values(
                session_id=caller.session, robot_id=_robot_id(caller), joined_at=utcnow()
            ).on_conflict_do_nothing()
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
        still_connected = request.db.scalar(
            select(Connection.session_id).where(Connection.robot_id == robot_id).limit(1)
        )
        if still_connected is None:
            request.realtime.publish(status_topic(robot_id), {"robot_id": robot_id, "connected": False})

    def forget_stale_connections(self, request: Any, connected: list[Caller]) -> None:
        """After the backend (re)joins: robots not connected now left while it was away."""
        sessions = [caller.session for caller in connected if caller.role == ROLE]
        request.db.execute(delete(Connection).where(not_(Connection.session_id.in_(sessions))))
