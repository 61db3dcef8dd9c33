"""Benchmark: robot data frames acknowledged and stored per second, through the real router.

    PYTHONWARNINGS=ignore .venv/bin/python -m bench.robots [--robots 50] [--seconds 10]
        [--batch 20] [--processes 1] [--database sqlite|postgresql]

A scratch database (a SQLite file, or a database on the
PostgreSQL server named by ``PYRAMIDION_BENCH_DATABASE_URL``) is migrated and
given ``--robots`` robots. A Crossbar router (configured as ``pyramidion router
start`` does) and the backend (``pyramidion realtime``) run as processes of
their own on loopback. Each simulated robot is an Autobahn asyncio client
that joins with a join token and then, waiting for each acknowledgement as a
real robot would, sends frames for ``--seconds`` twice:

1. one frame per call of ``pyramidion.robots.frame``;
2. ``--batch`` frames per call of ``pyramidion.robots.frames`` (what a robot
   sending faster than one call's round trip has accumulated).

The acknowledgement latency is the round trip of the call that carried the
frame, counted once per frame (a robot batching what accumulated also waits
up to one round trip before sending). Afterwards every acknowledged frame must
be in the database, once (the unique index forbids twice). Prints one line per
phase; the target is for the second, the first shows what one call per frame
costs:

    robots: 1694 frames/s acknowledged and stored, one frame per call (50 robots, sqlite), p99 ack 53 ms ...
    robots: 8740 frames/s acknowledged and stored, 20 frames per call (50 robots, sqlite), p99 ack 276 ms ...
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import free_port, scratch_database

TARGET = 5000
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def bench_settings(database_url: str, port: int, node_dir: Path, threads: int) -> dict[str, str]:
    return {
        "sqlalchemy.url": database_url,
        "pyramidion.plugins.enabled": "robots",
        "huey.url": "immediate",
        "jwt.secret": "bench-secret-0123456789abcdef0123456789abcdef",
        "realtime.port": str(port),
        "realtime.node_dir": str(node_dir),
        "realtime.backend_threads": str(threads),
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }


def arrange(settings: dict[str, str], robots: int) -> list[str]:
    """Migrate, register ``robots`` robots and return one join token for each."""
    import transaction

    from pyramidion import make_config, migrations
    from pyramidion.db import transactional_session
    from pyramidion_robots.models import Robot
    from pyramidion_robots.services import issue_join_token, new_secret
    from pyramidion_robots.settings import robots_settings

    registry = make_config(dict(settings)).registry
    migrations.upgrade(registry)
    config = robots_settings(registry.settings).model_copy(update={"token_ttl": 600})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        db = transactional_session(registry.db_session_factory, manager)
        secrets = {}
        for n in range(robots):
            secret, secret_hash = new_secret()
            secrets[f"BENCH-{n:03d}"] = secret
            db.add(Robot(serial=f"BENCH-{n:03d}", name=f"bench robot {n}", secret_hash=secret_hash))
        db.flush()
        tokens = [issue_join_token(db, config, serial, secret, "127.0.0.1").token for serial, secret in secrets.items()]
    registry.db_engine.dispose()
    return tokens


def start_router(settings: dict[str, str], node_dir: Path) -> subprocess.Popen:
    import requests

    from pyramidion.realtime import realtime_settings
    from pyramidion.realtime.router import (
        crossbar_venv,
        router_config,
        router_installed,
        start_command,
        write_node_config,
    )

    if not router_installed():
        raise SystemExit(f"robots: the router is not installed in {crossbar_venv()}: run `pyramidion router install`")
    config = realtime_settings(dict(settings))
    write_node_config(node_dir, router_config(config, {"user", "robot"}))
    with open(node_dir / "router.log", "ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            start_command(crossbar_venv(), node_dir, "warn"), stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{config.base_url}/info", timeout=0.5).raise_for_status()
            return process
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"robots: the router did not start; see {node_dir / 'router.log'}") from None
            time.sleep(0.25)


def start_backend(ini: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with open(ini.parent / "backend.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(BIN / "pyramidion"), "realtime", str(ini)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def write_ini(folder: Path, settings: dict[str, str]) -> Path:
    ini = folder / "bench.ini"
    lines = ["[app:main]", "use = egg:pyramidion", *(f"{key} = {value}" for key, value in settings.items())]
    lines += [
        "",
        "[loggers]",
        "keys = root",
        "",
        "[handlers]",
        "keys = console",
        "",
        "[formatters]",
        "keys = generic",
        "",
        "[logger_root]",
        "level = WARN",
        "handlers = console",
        "",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "level = NOTSET",
        "formatter = generic",
        "",
        "[formatter_generic]",
        "format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s",
    ]
    ini.write_text("\n".join(lines) + "\n")
    return ini


# -- the simulated robots (in one or more client processes) -------------------------


Outcome = tuple[list[int], list[float], int]  # a robot's acknowledged frame ids, latencies (s), errors


def run_robots(
    share: int, url: str, realm: str, tokens: list[str], phases: list[tuple[int, float]], seconds: float, results: Any
) -> None:
    """Each robot joins, then sends frames for ``seconds`` from each phase's start time, ``batch`` per call.

    ``batch`` 1 is one frame per call of ``pyramidion.robots.frame``; more
    goes through ``pyramidion.robots.frames``. Frame ids keep growing from
    one phase to the next.
    """
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.types import ComponentConfig

    def frame(frame_id: int) -> dict[str, Any]:
        return {
            "id": frame_id,
            "type": 1,
            "state": "auto",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "data": {"speed": 0.5, "position_x": frame_id * 0.01, "position_y": 1.0, "angle_theta": 0.1},
        }

    async def send(session: Any, frames: list[dict[str, Any]]) -> list[int]:
        """The ids acknowledged of ``frames``, sent in one call."""
        if len(frames) == 1:
            answers = [await session.call("pyramidion.robots.frame", frames[0])]
        else:
            answers = await session.call("pyramidion.robots.frames", frames)
        return [
            sent["id"]
            for sent, answer in zip(frames, answers, strict=False)
            if answer == {"status": "ok", "id": sent["id"]}
        ]

    async def robot(token: str) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        joined: asyncio.Future = loop.create_future()

        class Robot(ApplicationSession):
            def onConnect(self) -> None:
                self.join(realm, authmethods=["ticket"])

            def onChallenge(self, challenge: Any) -> str:
                return token

            def onJoin(self, details: Any) -> None:
                joined.set_result(self)

            def onLeave(self, details: Any) -> None:
                if not joined.done():
                    joined.set_exception(RuntimeError(f"join refused: {details.reason}"))

        factory = WampWebSocketClientFactory(lambda: Robot(ComponentConfig(realm)), url=url)
        transport, _ = await loop.create_connection(factory, factory.host, factory.port)
        session = await joined
        outcomes, frame_id = [], 0
        for batch, start_at in phases:
            acked, latencies, errors = [], [], 0
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while time.time() < start_at + seconds:
                frames = [frame(frame_id + n) for n in range(1, batch + 1)]
                frame_id += batch
                sent = time.perf_counter()
                try:
                    acked += await send(session, frames)
                except Exception:
                    errors += 1
                    continue
                latencies += [time.perf_counter() - sent] * batch
            outcomes.append((acked, latencies, errors))
        session.leave()
        transport.close()
        return outcomes

    async def main() -> list[list[Outcome]]:
        return await asyncio.gather(*(robot(token) for token in tokens))

    results.put((share, asyncio.run(main())))


def robot_ids(settings: dict[str, str]) -> list[int]:
    from sqlalchemy import create_engine, select

    from pyramidion_robots.models import Robot

    engine = create_engine(settings["sqlalchemy.url"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        ids = list(conn.scalars(select(Robot.id).order_by(Robot.serial)))
    engine.dispose()
    return ids


def stored_frames(settings: dict[str, str]) -> dict[int, set[int]]:
    from sqlalchemy import create_engine, select

    from pyramidion_robots.models import Frame

    engine = create_engine(settings["sqlalchemy.url"].replace("postgresql://", "postgresql+psycopg://", 1))
    stored: dict[int, set[int]] = {}
    with engine.connect() as conn:
        for robot_id, frame_id in conn.execute(select(Frame.robot_id, Frame.frame_id)):
            stored.setdefault(robot_id, set()).add(frame_id)
    engine.dispose()
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10, help="of each phase")
    parser.add_argument("--batch", type=int, default=20, help="frames per call in the second phase")
    parser.add_argument("--processes", type=int, default=1, help="client processes the robots are spread over")
    parser.add_argument("--threads", type=int, default=8, help="realtime.backend_threads of the backend")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database) as database_url:
        folder = Path(tmp)
        port = free_port()
        settings = bench_settings(database_url, port, folder / "router", args.threads)
        tokens = arrange(settings, args.robots)
        router = start_router(settings, folder / "router")
        backend = start_backend(write_ini(folder, settings))
        try:
            url, realm = f"ws://127.0.0.1:{port}/ws", "pyramidion"
            _wait_for_backend(url, realm)
            results: multiprocessing.Queue = multiprocessing.Queue()
            start_at = time.time() + 3 + args.robots * 0.02  # everyone joined by then
            # The second phase starts once the first one's last calls have come back.
            phases = [(1, start_at), (args.batch, start_at + args.seconds + 2)]
            shares = [tokens[n :: args.processes] for n in range(args.processes)]
            workers = [
                multiprocessing.Process(target=run_robots, args=(n, url, realm, share, phases, args.seconds, results))
                for n, share in enumerate(shares)
            ]
            for worker in workers:
                worker.start()
            # In the order of the shares, whichever process finishes first.
            finished = dict(results.get(timeout=2 * args.seconds + 120) for _ in workers)
            outcomes = [outcome for n in range(args.processes) for outcome in finished[n]]
            for worker in workers:
                worker.join()
        finally:
            for process in (backend, router):
                process.terminate()
                process.wait(timeout=30)
        # Robots were spread over processes in a known order: token i belongs to the i-th robot by serial.
        order = [
            i for share in [list(range(len(tokens)))[n :: args.processes] for n in range(args.processes)] for i in share
        ]
        ids = robot_ids(settings)
        stored = stored_frames(settings)

    for phase, (batch, _) in enumerate(phases):
        acked = {ids[i]: set(robot_outcomes[phase][0]) for i, robot_outcomes in zip(order, outcomes, strict=False)}
        latencies = sorted(latency for robot_outcomes in outcomes for latency in robot_outcomes[phase][1])
        errors = sum(robot_outcomes[phase][2] for robot_outcomes in outcomes)
        total = sum(len(frames) for frames in acked.values())
        lost = sum(len(frames - stored.get(robot_id, set())) for robot_id, frames in acked.items())
        rate = total / args.seconds
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
        verdict = "ok" if rate >= TARGET and lost == 0 else "MISSED"
        calls = "one frame per call" if batch == 1 else f"{batch} frames per call"
        print(
            f"robots: {rate:.0f} frames/s acknowledged and stored, {calls} ({args.robots} robots, {args.database}), "
            f"p99 ack {p99:.0f} ms (target >= {TARGET}/s) {verdict}; "
            f"{lost} acknowledged but not stored, {errors} errors"
        )


def _wait_for_backend(url: str, realm: str) -> None:
    """The backend has joined once the frame procedure is registered: calls stop failing with no_such_procedure."""
    # A robot cannot ask before it has joined, and joining needs the backend's authenticator:
    # so the first successful join means the backend is there.
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.types import ComponentConfig

    async def try_join() -> str:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future = loop.create_future()

        class Probe(ApplicationSession):
            def onConnect(self) -> None:
                self.join(realm, authmethods=["ticket"])

            def onChallenge(self, challenge: Any) -> str:
                return "probe"

            def onLeave(self, details: Any) -> None:
                if not outcome.done():
                    outcome.set_result(details.reason)
                self.disconnect()

        factory = WampWebSocketClientFactory(lambda: Probe(ComponentConfig(realm)), url=url)
        transport, _ = await loop.create_connection(factory, factory.host, factory.port)
        try:
            return await asyncio.wait_for(outcome, 5)
        finally:
            transport.close()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Refused as an invalid ticket (not for want of an authenticator): the backend answers.
        if asyncio.run(try_join()) == "pyramidion.error.invalid_ticket":
            return
        time.sleep(0.25)
    raise SystemExit("robots: the backend did not join the router")


if __name__ == "__main__":
    main()
