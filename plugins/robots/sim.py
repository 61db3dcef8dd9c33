"""``pyramidion robot-sim``: a simulated robot, for trying the platform out.

It does what a real robot does: exchanges its serial and secret for a join
token over REST, joins the router with it, subscribes to its command topic,
takes the commands waiting for it, then takes a position ``--rate`` times a
second and sends it, and obeys commands (``auto`` drives a circle, ``manual``
creeps, ``idle`` and ``error`` stop). With ``--batch N`` it sends up to N
frames per call (``pyramidion.robots.frames``): whatever accumulated while the
previous call was on its way, as a robot sending faster than one round trip
does. A frame stays in its outbox until it is acknowledged (or refused as
invalid), so frames not stored, or sent when the connection dropped, go again
after the next join. When the connection drops it fetches a new token and
joins again. After ``--tries`` failed attempts in a row (no token, no router,
join refused; default 10) it gives up with one line and exit status 1, unless
told ``--retry-forever``. It prints what it does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import math
import time
from typing import Any

import requests
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig

from .realtime import COMMAND_STATUS, FRAME, FRAMES, INVALID_FRAME, PENDING_COMMANDS, UNKNOWN_ROBOT, command_topic

SPEEDS = {"auto": 0.5, "manual": 0.1, "idle": 0.0, "error": 0.0}  # metres per second
TURN = 0.2  # radians per second while driving
RECONNECT_DELAY = 2.0  # seconds between two attempts to get a token and join
DEFAULT_TRIES = 10  # failed attempts in a row before giving up (--tries); --retry-forever: no limit


def say(message: str) -> None:
    print(f"{dt.datetime.now().strftime('%H:%M:%S')} {message}", flush=True)


class Motion:
    """Where the robot is, and what state it is in."""

    def __init__(self) -> None:
        self.state = "idle"
        self.x = self.y = self.theta = 0.0
        self.moved_at = time.monotonic()
        # Frame ids stay unique across restarts of the simulator: a reused id would be taken for a resend.
        self.next_frame_id = time.time_ns() // 1000

    def frame(self) -> dict[str, Any]:
        now = time.monotonic()
        elapsed, self.moved_at = now - self.moved_at, now
        speed = SPEEDS[self.state]
        if speed:
            self.theta = (self.theta + TURN * elapsed) % (2 * math.pi)
            self.x += speed * elapsed * math.cos(self.theta)
            self.y += speed * elapsed * math.sin(self.theta)
        self.next_frame_id += 1
        return {
            "id": self.next_frame_id,
            "type": 1,
            "state": self.state,
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "data": {
                "speed": speed,
                "position_x": round(self.x, 3),
                "position_y": round(self.y, 3),
                "angle_theta": round(self.theta, 3),
            },
        }


class SimulatedRobot(ApplicationSession):
    def __init__(
        self,
        config: ComponentConfig,
        ticket: str,
        motion: Motion,
        outbox: list[dict[str, Any]],
        rate: float,
        batch: int,
        lost: asyncio.Future,
    ) -> None:
        super().__init__(config)
        self.ticket = ticket
        self.motion = motion
        self.outbox = outbox  # frames taken and not yet acknowledged, oldest first; kept across joins
        self.rate = rate
        self.batch = batch
        self.lost = lost  # set to whether the session had joined, once the connection is gone
        self.joined = False
        self.taken = asyncio.Event()

    def onConnect(self) -> None:
        self.join(self.config.realm, authmethods=["ticket"])

    def onChallenge(self, challenge: Any) -> str:
        return self.ticket

    async def onJoin(self, details: Any) -> None:
        self.joined = True
        robot_id = int(details.authid.partition(":")[2])
        say(f"joined as {details.authid} ({details.authextra.get('serial')})")
        await self.subscribe(self.obey, command_topic(robot_id))
        for command in await self.call(PENDING_COMMANDS):
            await self.obey(command)
        await self.send_frames()

    async def obey(self, command: dict[str, Any]) -> None:
        self.motion.state = command["command"]
        say(f"command {command['id']}: {command['command']} -> now {self.motion.state}")
        await self.call(COMMAND_STATUS, command["id"], "acknowledged")

    async def take_positions(self) -> None:
        """A frame into the outbox every 1/rate seconds, whether or not the last call has come back."""
        interval, due = 1 / self.rate, time.monotonic()
        while self.is_attached():
            self.outbox.append(self.motion.frame())
            self.taken.set()
            due += interval  # on a fixed schedule, so the rate holds however late a wake-up was
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def send_frames(self) -> None:
        taking = asyncio.ensure_future(self.take_positions())
        acked, reported_at = 0, time.monotonic()
        try:
            while self.is_attached():
                if not self.outbox:
                    self.taken.clear()
                    await self.taken.wait()
                frames = self.outbox[: self.batch]
                answers = await self.send(frames)
                for frame, answer in zip(frames, answers, strict=True):
                    if answer["status"] == "ok":
                        acked += 1
                        if self.rate <= 5:
                            data = frame["data"]
                            say(
                                f"frame {answer['id']} ok: {frame['state']} at ({data['position_x']}, {data['position_y']})"
                            )
                    else:
                        say(f"frame {frame['id']} refused: {answer['error']}: {answer['message']}")
                # Acknowledged, invalid, or the robot deleted: done. Anything else
                # (not stored, the connection dropped) goes again.
                done = {
                    frame["id"]
                    for frame, answer in zip(frames, answers, strict=True)
                    if answer["status"] == "ok" or answer["error"] in (INVALID_FRAME, UNKNOWN_ROBOT)
                }
                self.outbox[:] = [frame for frame in self.outbox if frame["id"] not in done]
                if self.rate > 5 and time.monotonic() - reported_at >= 1:
                    say(
                        f"{acked} frames acknowledged in the last second, state {self.motion.state}, {len(self.outbox)} waiting"
                    )
                    acked, reported_at = 0, time.monotonic()
        finally:
            taking.cancel()

    async def send(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One answer per frame: ``--batch`` 1 calls the single-frame procedure, more the list one."""
        if self.batch > 1:
            return await self.call(FRAMES, frames)
        try:
            return [await self.call(FRAME, frames[0])]
        except ApplicationError as exc:
            return [
                {
                    "status": "error",
                    "id": frames[0]["id"],
                    "error": exc.error,
                    "message": exc.args[0] if exc.args else "",
                }
            ]

    def onLeave(self, details: Any) -> None:
        say(f"left: {details.reason} {details.message or ''}".rstrip())
        self.disconnect()

    def onDisconnect(self) -> None:
        if not self.lost.done():
            self.lost.set_result(self.joined)


def join_token(url: str, serial: str, secret: str) -> dict[str, Any]:
    while True:
        response = requests.post(f"{url}/api/robots/token", json={"serial": serial, "secret": secret}, timeout=10)
        if response.status_code == 429:
            wait = int(response.headers.get("Retry-After", "60"))
            say(f"too many refused token requests; waiting {wait} s")
            time.sleep(wait)
            continue
        if response.status_code == 401:
            raise SystemExit("robot-sim: the platform refused the serial or the secret")
        response.raise_for_status()
        return response.json()


def failure(exc: Exception) -> str:
    """Why a connection attempt failed, in a few words (not urllib3's retry story)."""
    if isinstance(exc, requests.HTTPError):
        return f"it answered {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "not reachable"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


async def simulate(
    url: str, serial: str, secret: str, rate: float, batch: int, router: str | None, tries: int | None
) -> None:
    """Run the robot until stopped; ``tries`` failed attempts in a row (None: no limit) end it with an error."""
    motion, outbox = Motion(), []
    loop = asyncio.get_running_loop()
    failed = 0
    while True:
        problem = None
        try:
            token = await asyncio.to_thread(join_token, url, serial, secret)
        except requests.RequestException as exc:
            problem = f"cannot get a token from {url}: {failure(exc)}"
        else:
            websocket_url = router or token["url"]
            say(f"got a token valid {token['expires_in']} s; joining {websocket_url}")
            lost = loop.create_future()
            robot = functools.partial(
                SimulatedRobot, ComponentConfig(token["realm"]), token["token"], motion, outbox, rate, batch, lost
            )
            factory = WampWebSocketClientFactory(robot, url=websocket_url)
            try:
                transport, _ = await loop.create_connection(factory, factory.host, factory.port)
            except OSError as exc:
                problem = f"cannot reach the router at {websocket_url}: {failure(exc)}"
            else:
                joined = await lost
                transport.close()
                if not joined:
                    problem = f"the router at {websocket_url} did not let the robot join"
        if problem is None:
            failed = 0  # it had joined: a dropped connection starts a fresh count
            say(f"connection lost; joining again in {RECONNECT_DELAY:g} s")
        else:
            failed += 1
            if tries is not None and failed >= tries:
                raise SystemExit(f"robot-sim: gave up after {failed} failed tries: {problem}")
            left = "retrying for ever" if tries is None else f"{tries - failed} attempt(s) left"
            say(f"{problem}; trying again in {RECONNECT_DELAY:g} s ({left})")
        await asyncio.sleep(RECONNECT_DELAY)


def run(args: argparse.Namespace) -> None:
    tries = None if args.retry_forever else args.tries
    try:
        asyncio.run(simulate(args.url.rstrip("/"), args.serial, args.secret, args.rate, args.batch, args.router, tries))
    except KeyboardInterrupt:
        say("stopped")


def positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_command(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "robot-sim", help="a simulated robot: joins the router, sends frames, obeys commands"
    )
    parser.add_argument("--serial", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--rate", type=float, default=1.0, help="position frames per second (default 1)")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="frames per call at most: more than 1 sends what accumulated in one call (default 1)",
    )
    parser.add_argument(
        "--url", default="http://127.0.0.1:6543", help="the platform's web address (default http://127.0.0.1:6543)"
    )
    parser.add_argument("--router", help="the router's WebSocket address (default: as the platform says)")
    giving_up = parser.add_mutually_exclusive_group()
    giving_up.add_argument(
        "--tries",
        type=positive,
        default=DEFAULT_TRIES,
        help=f"failed attempts in a row to get a token and join before giving up with an error (default {DEFAULT_TRIES})",
    )
    giving_up.add_argument("--retry-forever", action="store_true", help="never give up")
    parser.set_defaults(func=run)
