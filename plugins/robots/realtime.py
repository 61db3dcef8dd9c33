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
(``{"robot_id", "frame"}``, the newest of each type, published only while
somebody watches: see :class:`LiveStatus`), connection changes
(``{"robot_id", "connected"}``) and commands' statuses (``{"robot_id",
"command": {"id", "command", "status"}}``).

What is decided here is WAMP's part (arguments, errors, events); the rules
are the use cases of :mod:`.services`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

from autobahn.wamp.exception import ApplicationError

from pyramidion.realtime import BackendSession, Caller, Principal
from pyramidion.request import Request

from . import services
from .frames import FrameWriter, RobotGone, Submission
from .schemas import InvalidFrame, parse_frame
from .services import ROBOT_ROLE, command_message, command_topic, status_topic
from .settings import robots_settings

__all__ = [
    "COMMAND_STATUS",
    "FRAME",
    "FRAMES",
    "INVALID_FRAME",
    "NOT_STORED",
    "PENDING_COMMANDS",
    "UNKNOWN_ROBOT",
    "RobotsBackend",
    "command_topic",
    "status_topic",
]

FRAME = "pyramidion.robots.frame"
FRAMES = "pyramidion.robots.frames"
PENDING_COMMANDS = "pyramidion.robots.pending_commands"
COMMAND_STATUS = "pyramidion.robots.command_status"

INVALID_FRAME = "pyramidion.robots.invalid_frame"
NOT_STORED = "pyramidion.robots.not_stored"
UNKNOWN_ROBOT = "pyramidion.robots.unknown_robot"
INVALID_COMMAND_STATUS = "pyramidion.robots.invalid_command_status"
INVALID_ARGUMENTS = "pyramidion.robots.invalid_arguments"

log = logging.getLogger(__name__)

STATUS_TOPIC = re.compile(r"^pyramidion\.robots\.robot\.(\d+)\.status$")


def _robot_id(client: Caller) -> int:
    return int(client.id)


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


def _give_up(stored: asyncio.Future) -> None:
    """No commit within ``robots.frame_ack_timeout``: the call fails (the writer may still store the frames)."""
    if not stored.done():
        stored.set_exception(TimeoutError())


def _connection_event(robot_id: int, connected: bool) -> dict[str, Any]:
    return {"robot_id": robot_id, "connected": connected}


class LiveStatus:
    """Stored frames, published to the status topics of watched robots, at most once per ``interval`` seconds.

    Watchers get the newest frame of each kind of each robot that sent one
    since the last publication: a screen needs no more than that, and
    publishing every frame would double the router's work at full rate. A
    robot nobody watches costs no publication (at full rate those were about
    a tenth of the backend's messages, sent for nobody). Its newest frames
    are kept, and published when somebody starts watching: the
    router tells the backend a moment after the watcher subscribed, and a
    frame held back in between would otherwise never reach it.
    """

    def __init__(self, session: BackendSession, interval: float) -> None:
        self.session = session
        self.interval = interval
        self._newest: dict[tuple[int, int], Any] = {}  # (robot id, frame type) -> parsed frame
        self._due: set[tuple[int, int]] = set()  # keys whose newest frame is not published yet
        self._lock = threading.Lock()
        self._scheduled = False

    def update(self, batch: list[Submission]) -> None:
        with self._lock:
            for submission in batch:
                for frame in submission.frames:
                    key = (submission.robot_id, frame.type)
                    known = self._newest.get(key) if key in self._due else None
                    # Within one interval the robot's clock decides; a published frame gives way to any later one.
                    if known is None or frame.timestamp >= known.timestamp:
                        self._newest[key] = frame
                        self._due.add(key)
            self._schedule()

    def watch_started(self, request: Request, subscriptions: list[tuple[str, str]]) -> None:
        """Somebody started watching: the newest frames of the robots now watched are published again."""
        robots = {
            int(m.group(1)) for uri, match in subscriptions if match == "exact" and (m := STATUS_TOPIC.match(uri))
        }
        every_robot = any(match != "exact" for _, match in subscriptions)  # the publication checks whom it reaches
        with self._lock:
            self._due.update(key for key in self._newest if every_robot or key[0] in robots)
            self._schedule()

    def forget(self, robot_id: int) -> None:
        """A deleted robot: its frames are never published again."""
        with self._lock:
            for key in [key for key in self._newest if key[0] == robot_id]:
                del self._newest[key]
                self._due.discard(key)

    def _schedule(self) -> None:
        # Under the lock.
        if self._due and not self._scheduled:
            self._scheduled = True
            timer = threading.Timer(self.interval, self._publish)
            timer.daemon = True
            timer.start()

    def _publish(self) -> None:
        with self._lock:
            due, self._due, self._scheduled = self._due, set(), False
            frames = [(key[0], self._newest[key]) for key in due]
        for robot_id, frame in frames:
            topic = status_topic(robot_id)
            # Not watched: dropped from due, kept as the newest for whoever starts watching.
            if self.session.watched(topic):
                self.session.publish(topic, {"robot_id": robot_id, "frame": frame.model_dump(mode="json")})


class RobotsBackend:
    """Everything the robots plugin serves on the backend session of one process."""

    def __init__(self, session: BackendSession) -> None:
        self.session = session
        self.config = robots_settings(session.registry.settings)
        self.live = LiveStatus(session, self.config.status_interval)
        self.frames = FrameWriter(session.registry.db_engine, self.live.update, self.config.frame_batch_size)

    def declare(self) -> None:
        session = self.session
        session.add_authenticator(self.principal, role=ROBOT_ROLE)
        session.register_async_procedure(FRAME, self.receive_frame, roles=[ROBOT_ROLE])
        session.register_async_procedure(FRAMES, self.receive_frames, roles=[ROBOT_ROLE])
        session.register_procedure(PENDING_COMMANDS, self.pending_commands, roles=[ROBOT_ROLE])
        session.register_procedure(COMMAND_STATUS, self.command_status, roles=[ROBOT_ROLE])
        session.add_authorizer(self.may_watch)
        session.on_session_join(self.robot_joined)
        session.on_session_leave(self.robot_left)
        session.on_backend_join(self.forget_stale_connections)
        session.on_watch(self.live.watch_started)
        session.subscribe_topic(services.access_ended_topic(), self.access_ended)

    # -- joining ---------------------------------------------------------------------

    def principal(self, request: Request, ticket: str) -> Principal | None:
        robot = services.redeem_join_token(request.db, ticket)
        return Principal(ROBOT_ROLE, robot.id, {"serial": robot.serial, "name": robot.name}) if robot else None

    def may_watch(self, request: Request, client: Caller, uri: str, action: str) -> bool | None:
        """Users may subscribe to the status of the robots they may use."""
        match = STATUS_TOPIC.match(uri)
        if match is None or action != "subscribe" or client.user_id is None:
            return None
        return services.may_watch(request.db, client.user_id, int(match.group(1)))

    def access_ended(
        self, request: Request, publisher: Caller | None, event: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        """A robot was deleted or unshared (told by the platform after the commit): end what it let in.

        A deleted robot's own sessions end, and every user's subscription to
        its status (a new robot may get its id one day). After an unshare,
        the user's subscription ends unless they may still use the robot.
        """
        if publisher is not None or not isinstance(event, dict) or not isinstance(event.get("robot_id"), int):
            log.warning("ignored an access_ended event not from the platform: %r", event)
            return
        robot_id, user_id = event["robot_id"], event.get("user_id")
        topic = status_topic(robot_id)
        if user_id is None:
            self.live.forget(robot_id)
            self.session.end_sessions(f"{ROBOT_ROLE}:{robot_id}", "the robot was deleted")
            users = {client.authid for client in self.session.clients if client.user_id is not None}
        elif isinstance(user_id, int) and not services.may_watch(request.db, user_id, robot_id):
            users = {f"user:{user_id}"}
        else:
            return
        for authid in sorted(users):
            self.session.unsubscribe(topic, authid, "you may no longer follow this robot")

    # -- frames ----------------------------------------------------------------------

    async def receive_frame(self, client: Caller, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if len(args) != 1 or kwargs:
            raise ApplicationError(INVALID_FRAME, "send exactly one frame, as the only positional argument")
        try:
            frame = parse_frame(args[0])
        except InvalidFrame as exc:
            raise ApplicationError(INVALID_FRAME, str(exc)) from None
        refusal = await self._store(client, [frame])
        if refusal is not None:
            error, message = refusal
            raise ApplicationError(error, f"frame {frame.id}: {message}")
        return _acknowledgement(frame)

    async def receive_frames(self, client: Caller, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
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
        refusal = await self._store(client, valid) if valid else None
        return [
            item if isinstance(item, dict) else _acknowledgement(item) if refusal is None else _refusal(item, *refusal)
            for item in parsed
        ]

    async def _store(self, client: Caller, frames: list[Any]) -> tuple[str, str] | None:
        """None once ``frames`` are committed, else the error and message that refuse them.

        A robot deleted while connected gets ``unknown_robot`` (its frames can
        never be stored); the writer's failure, or no commit within
        ``robots.frame_ack_timeout``, is ``not_stored``: the robot sends them
        again, and any that were stored after all are not stored twice.
        """
        stored = self.frames.store(_robot_id(client), frames)
        # Not asyncio.wait_for: a timer on the writer's own future costs a fraction of its task and futures.
        timeout = asyncio.get_running_loop().call_later(self.config.frame_ack_timeout, _give_up, stored)
        try:
            await stored
        except RobotGone:
            return UNKNOWN_ROBOT, "this robot is no longer registered; its frames are not stored"
        except Exception:
            return NOT_STORED, "not stored now; send it again"
        finally:
            timeout.cancel()
        return None

    # -- commands --------------------------------------------------------------------

    def pending_commands(self, request: Request, client: Caller, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if args or kwargs:
            raise ApplicationError(INVALID_ARGUMENTS, "pending_commands takes no arguments")
        return [command_message(command) for command in services.pending_commands(request.db, _robot_id(client))]

    def command_status(self, request: Request, client: Caller, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``command_status(command_id, status, message=None)``, by position or by name; nothing else."""
        names = ("command_id", "status", "message")
        unknown = sorted(set(kwargs) - set(names))
        if len(args) > len(names) or unknown:
            raise ApplicationError(
                INVALID_COMMAND_STATUS, f"takes command_id, status and message; not {unknown or args}"
            )
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        try:
            command = services.report_command_status(
                request.db, _robot_id(client), given.get("command_id"), given.get("status"), given.get("message")
            )
        except services.CommandReportRefused as exc:
            raise ApplicationError(INVALID_COMMAND_STATUS, str(exc)) from None
        request.realtime.publish(status_topic(command.robot_id), services.command_event(command))
        return {"id": command.id, "status": command.stored_status.value}

    # -- connection state ------------------------------------------------------------

    def robot_joined(self, request: Request, client: Caller) -> None:
        if client.role != ROBOT_ROLE:
            return
        services.robot_connected(request.db, _robot_id(client), client.session)
        request.realtime.publish(status_topic(_robot_id(client)), _connection_event(_robot_id(client), True))
        # Join and leave handlers may run in any order: if the robot left while
        # this one ran, the leave handler found nothing to delete, so do it here.
        request.tm.get().addAfterCommitHook(lambda committed: committed and self._forget_if_gone(client))

    def _forget_if_gone(self, client: Caller) -> None:
        if client.session not in {known.session for known in self.session.clients}:
            with self.session.registry.db_engine.begin() as conn:
                disconnected = services.robot_disconnected(conn, _robot_id(client), client.session)
            if disconnected:
                self.session.publish(status_topic(_robot_id(client)), _connection_event(_robot_id(client), False))

    def robot_left(self, request: Request, client: Caller) -> None:
        if client.role != ROBOT_ROLE:
            return
        if services.robot_disconnected(request.db, _robot_id(client), client.session):
            request.realtime.publish(status_topic(_robot_id(client)), _connection_event(_robot_id(client), False))

    def forget_stale_connections(self, request: Request, connected: list[Caller]) -> None:
        """After the backend (re)joins: robots not connected now left while it was away; their watchers hear it."""
        sessions = [client.session for client in connected if client.role == ROBOT_ROLE]
        for robot_id in services.forget_stale_connections(request.db, sessions):
            request.realtime.publish(status_topic(robot_id), _connection_event(robot_id, False))
