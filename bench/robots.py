"""Benchmark: robot frames acknowledged and stored per second, against a bare procedure through the same router.

    PYTHONWARNINGS=ignore .venv/bin/python -m bench.robots [--robots 50] [--seconds 10]
        [--batch 20] [--processes 1] [--database sqlite|postgresql]

A scratch database (a SQLite file, or a database on the
PostgreSQL server named by ``PYRAMIDION_BENCH_DATABASE_URL``) is migrated and
given ``--robots`` robots. A Crossbar router (configured as ``pyramidion router
start`` does, plus a bench role), the backend (``pyramidion realtime``) and a
trivial backend session serving a bare procedure run as processes of their
own on loopback. Each simulated robot is an Autobahn asyncio client that joins
twice, as its robot with a join token and as a bench client, and then,
waiting for each answer as a real robot would, calls for ``--seconds`` each:

1. the reference: ``pyramidion.bench.bare(frame)``, a procedure of the
   trivial session that answers what the frame procedure answers and does
   nothing else (same clients, same frame, same answer);
2. one frame per call of ``pyramidion.robots.frame``; the target is at least
   80% of the bare procedure's calls/s;
3. ``--batch`` frames per call of ``pyramidion.robots.frames`` (what a robot
   sending faster than one call's round trip has accumulated; no target).

The first two alternate in halves (bare, frame, bare, frame), so that a
change in the machine's load weighs on both alike. The acknowledgement latency
is the round trip of the call that carried the frame, counted once per frame.
Afterwards every acknowledged frame must be in the database, once (the unique
index forbids twice). Prints one line per measurement, with the CPU each
process spent per call (from ``/proc``; for the backend also its event loop's
thread alone, the rest being the frame writer's), and a line of the CPU all of them
(router, serving session, clients) spent per call: with two busy cores the
CPU is the limit, so the ratio of those totals is the share that holds still
while the measured one swings with the machine's load:

    robots: bare procedure 3200 calls/s (50 clients), p99 30 ms, 0 errors; router 0.19, bare 0.06 CPU ms/call
    robots: 2900 frames/s acknowledged and stored, one frame per call (50 robots, sqlite), p99 ack 35 ms = 91% of the bare procedure (target >= 80%) ok; 0 acknowledged but not stored, 0 errors; router 0.20, backend 0.15, its event loop 0.10 CPU ms/call
    robots: CPU ms/call of router, serving session and clients: bare procedure 0.40 (clients 0.15), one frame per call 0.50 (clients 0.15) = 80% of the bare procedure's calls/s when the CPU is the limit
    robots: 9000 frames/s acknowledged and stored, 20 frames per call (50 robots, sqlite), p99 ack 200 ms (no target); 0 acknowledged but not stored, 0 errors; router 0.31, backend 0.65, its event loop 0.30 CPU ms/call
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import cpu_seconds, free_port, scratch_database

TARGET = 0.8  # one frame per call: this share of the bare procedure's calls/s
BARE = "pyramidion.bench.bare"
LOOP = "its event loop"  # the backend's main thread, as a meter of its own
BENCH_ROLE = "bench"  # the bench clients' role: may call BARE, nothing else
BENCH_SECRET = "bench-client-secret-0123456789abcdef"
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
    node = router_config(config, {"user", "robot"})
    # The bench clients: a static role (permission cached like the robots' dynamic one) joining with WAMP-CRA.
    realm = node["workers"][0]["realms"][0]
    realm["roles"].append(
        {
            "name": BENCH_ROLE,
            "permissions": [
                {
                    "uri": BARE,
                    "match": "exact",
                    "allow": {"call": True},
                    "disclose": {"caller": True},
                    "cache": True,
                }
            ],
        }
    )
    websocket = node["workers"][0]["transports"][0]["paths"]["ws"]
    websocket["auth"]["wampcra"]["users"][BENCH_ROLE] = {"secret": BENCH_SECRET, "role": BENCH_ROLE}
    write_node_config(node_dir, node)
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


def serve_bare(url: str, realm: str, secret: str, ready: Any) -> None:
    """The trivial backend session: joins as the backend and serves BARE, answering what the frame procedure does."""
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp import auth
    from autobahn.wamp.types import ComponentConfig

    def bare(frame: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "id": frame["id"]}

    class Bare(ApplicationSession):
        def onConnect(self) -> None:
            self.join(realm, authmethods=["wampcra"], authid="backend")

        def onChallenge(self, challenge: Any) -> str:
            return auth.compute_wcs(secret, challenge.extra["challenge"])

        async def onJoin(self, details: Any) -> None:
            await self.register(bare, BARE)
            ready.set()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        factory = WampWebSocketClientFactory(lambda: Bare(ComponentConfig(realm)), url=url)
        await loop.create_connection(factory, factory.host, factory.port)
        await loop.create_future()  # until the bench terminates this process

    asyncio.run(main())


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
Phase = tuple[str, int, float, float]  # (BARE or "frames", frames per call, start time, seconds)


def run_robots(share: int, url: str, realm: str, tokens: list[str], phases: list[Phase], results: Any) -> None:
    """Each robot joins (as itself and as a bench client), then calls from each phase's start for its seconds.

    A BARE phase calls the bare procedure with one frame; a "frames" phase
    sends ``batch`` frames per call: 1 through ``pyramidion.robots.frame``,
    more through ``pyramidion.robots.frames``. Frame ids keep growing from
    one phase to the next.
    """
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp import auth
    from autobahn.wamp.types import ComponentConfig

    def frame(frame_id: int) -> dict[str, Any]:
        return {
            "id": frame_id,
            "type": 1,
            "state": "auto",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "data": {"speed": 0.5, "position_x": frame_id * 0.01, "position_y": 1.0, "angle_theta": 0.1},
        }

    async def send(session: Any, kind: str, frames: list[dict[str, Any]]) -> list[int]:
        """The ids acknowledged of ``frames``, sent in one call."""
        if kind == BARE:
            answers = [await session.call(BARE, frames[0])]
        elif len(frames) == 1:
            answers = [await session.call("pyramidion.robots.frame", frames[0])]
        else:
            answers = await session.call("pyramidion.robots.frames", frames)
        return [
            sent["id"]
            for sent, answer in zip(frames, answers, strict=False)
            if answer == {"status": "ok", "id": sent["id"]}
        ]

    async def join(authmethod: str, authid: str | None, answer: Any) -> tuple[Any, Any]:
        """A joined session and its transport; ``answer(challenge)`` is the ticket or the CRA signature."""
        loop = asyncio.get_running_loop()
        joined: asyncio.Future = loop.create_future()

        class Client(ApplicationSession):
            def onConnect(self) -> None:
                self.join(realm, authmethods=[authmethod], authid=authid)

            def onChallenge(self, challenge: Any) -> str:
                return answer(challenge)

            def onJoin(self, details: Any) -> None:
                joined.set_result(self)

            def onLeave(self, details: Any) -> None:
                if not joined.done():
                    joined.set_exception(RuntimeError(f"join refused: {details.reason}"))

        factory = WampWebSocketClientFactory(lambda: Client(ComponentConfig(realm)), url=url)
        transport, _ = await loop.create_connection(factory, factory.host, factory.port)
        return await joined, transport

    async def robot(token: str) -> list[Outcome]:
        robot_session, robot_transport = await join("ticket", None, lambda challenge: token)
        bench_session, bench_transport = await join(
            "wampcra", BENCH_ROLE, lambda challenge: auth.compute_wcs(BENCH_SECRET, challenge.extra["challenge"])
        )
        outcomes, frame_id = [], 0
        for kind, batch, start_at, seconds in phases:
            session = bench_session if kind == BARE else robot_session
            acked, latencies, errors = [], [], 0
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while time.time() < start_at + seconds:
                frames = [frame(frame_id + n) for n in range(1, batch + 1)]
                frame_id += batch
                sent = time.perf_counter()
                try:
                    acked += await send(session, kind, frames)
                except Exception:
                    errors += 1
                    continue
                latencies += [time.perf_counter() - sent] * batch
            outcomes.append((acked, latencies, errors))
        for session, transport in ((robot_session, robot_transport), (bench_session, bench_transport)):
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
    parser.add_argument("--seconds", type=float, default=10, help="of each measurement")
    parser.add_argument("--batch", type=int, default=20, help="frames per call in the last measurement")
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
        url, realm = f"ws://127.0.0.1:{port}/ws", "pyramidion"
        bare_ready = multiprocessing.Event()
        bare = multiprocessing.Process(
            target=serve_bare, args=(url, realm, _backend_secret(settings), bare_ready), daemon=True
        )
        bare.start()
        try:
            _wait_for_backend(url, realm)
            if not bare_ready.wait(60):
                raise SystemExit("robots: the bare procedure's session did not join the router")
            results: multiprocessing.Queue = multiprocessing.Queue()
            phases = _phases(time.time() + 3 + args.robots * 0.04, args.seconds, args.batch)  # everyone joined by then
            shares = [tokens[n :: args.processes] for n in range(args.processes)]
            workers = [
                multiprocessing.Process(target=run_robots, args=(n, url, realm, share, phases, results))
                for n, share in enumerate(shares)
            ]
            for worker in workers:
                worker.start()
            pids = {"router": router.pid, "backend": backend.pid, "bare": bare.pid}
            pids |= {f"clients {n}": worker.pid for n, worker in enumerate(workers) if worker.pid is not None}
            meters = {name: functools.partial(_tree_cpu, pid) for name, pid in pids.items()}
            # The backend's main thread runs its event loop; the frame writer and the handlers' pool are the others.
            meters[LOOP] = functools.partial(cpu_seconds, backend.pid, backend.pid)
            cpu = _cpu_by_phase(phases, meters)
            for spent in cpu:  # the client processes as one
                spent["clients"] = sum(spent.pop(f"clients {n}", 0.0) for n in range(len(workers)))
            # In the order of the shares, whichever process finishes first.
            finished = dict(results.get(timeout=3 * args.seconds + 180) for _ in workers)
            outcomes = [outcome for n in range(args.processes) for outcome in finished[n]]
            for worker in workers:
                worker.join()
        finally:
            bare.terminate()
            for process in (backend, router):
                process.terminate()
                process.wait(timeout=30)
        # Robots were spread over processes in a known order: token i belongs to the i-th robot by serial.
        order = [
            i for share in [list(range(len(tokens)))[n :: args.processes] for n in range(args.processes)] for i in share
        ]
        ids = robot_ids(settings)
        stored = stored_frames(settings)

    def measured(kind: str, batch: int) -> tuple[float, float, int, int, int]:
        """(calls or frames per second, p99 ms, frames, acknowledged but not stored, errors) over the phases."""
        numbers = numbered(kind, batch)
        acked = {ids[i]: {f for n in numbers for f in robot[n][0]} for i, robot in zip(order, outcomes, strict=True)}
        latencies = sorted(latency for robot in outcomes for n in numbers for latency in robot[n][1])
        errors = sum(robot[n][2] for robot in outcomes for n in numbers)
        total = sum(len(frames) for frames in acked.values())
        lost = 0 if kind == BARE else sum(len(f - stored.get(robot_id, set())) for robot_id, f in acked.items())
        seconds = sum(phases[n][3] for n in numbers)
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
        return total / seconds, p99, total, lost, errors

    def numbered(kind: str, batch: int) -> list[int]:
        return [n for n, phase in enumerate(phases) if phase[:2] == (kind, batch)]

    def cpu_ms(kind: str, batch: int, calls: float, name: str) -> float:
        """A process's CPU time over the phases, per call."""
        return sum(cpu[n][name] for n in numbered(kind, batch)) * 1000 / max(calls, 1)

    def cpu_per_call(kind: str, batch: int, calls: float, *names: str) -> str:
        return ", ".join(f"{name} {cpu_ms(kind, batch, calls, name):.2f}" for name in names) + " CPU ms/call"

    where = f"({args.robots} robots, {args.database})"
    bare_rate, bare_p99, bare_calls, _, bare_errors = measured(BARE, 1)
    print(
        f"robots: bare procedure {bare_rate:.0f} calls/s ({args.robots} clients), p99 {bare_p99:.0f} ms, "
        f"{bare_errors} errors; {cpu_per_call(BARE, 1, bare_calls, 'router', 'bare')}"
    )
    rate, p99, frames, lost, errors = measured("frames", 1)
    ratio = rate / bare_rate if bare_rate else 0.0
    verdict = "ok" if ratio >= TARGET and lost == 0 and errors == 0 else "MISSED"
    print(
        f"robots: {rate:.0f} frames/s acknowledged and stored, one frame per call {where}, p99 ack {p99:.0f} ms "
        f"= {ratio:.0%} of the bare procedure (target >= {TARGET:.0%}) {verdict}; "
        f"{lost} acknowledged but not stored, {errors} errors; "
        f"{cpu_per_call('frames', 1, frames, 'router', 'backend', LOOP)}"
    )
    # With the CPU the limit (2 busy cores), calls/s go as 1 / the CPU all processes spend per call:
    # this share holds still while the measured one swings with the machine's load.
    bare_cpu = sum(cpu_ms(BARE, 1, bare_calls, name) for name in ("router", "bare", "clients"))
    frame_cpu = sum(cpu_ms("frames", 1, frames, name) for name in ("router", "backend", "clients"))
    print(
        f"robots: CPU ms/call of router, serving session and clients: bare procedure {bare_cpu:.2f} "
        f"(clients {cpu_ms(BARE, 1, bare_calls, 'clients'):.2f}), one frame per call {frame_cpu:.2f} "
        f"(clients {cpu_ms('frames', 1, frames, 'clients'):.2f}) = {bare_cpu / frame_cpu if frame_cpu else 0:.0%} "
        "of the bare procedure's calls/s when the CPU is the limit"
    )
    rate, p99, frames, lost, errors = measured("frames", args.batch)
    calls = frames / args.batch
    print(
        f"robots: {rate:.0f} frames/s acknowledged and stored, {args.batch} frames per call {where}, "
        f"p99 ack {p99:.0f} ms (no target); {lost} acknowledged but not stored, {errors} errors; "
        f"{cpu_per_call('frames', args.batch, calls, 'router', 'backend', LOOP)}"
    )


def _cpu_by_phase(phases: list[Phase], meters: dict[str, Callable[[], float]]) -> list[dict[str, float]]:
    """CPU seconds each meter counted in each phase, read on its timetable."""
    spent = []
    for _, _, start_at, seconds in phases:
        time.sleep(max(0.0, start_at - time.time()))
        before = {name: meter() for name, meter in meters.items()}
        time.sleep(max(0.0, start_at + seconds - time.time()))
        spent.append({name: meter() - before[name] for name, meter in meters.items()})
    return spent


def _tree_cpu(pid: int) -> float:
    """User and system CPU seconds of a process and its descendants so far (Linux /proc)."""
    try:
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:  # gone meanwhile
        return 0.0
    return cpu_seconds(pid) + sum(_tree_cpu(child) for child in children)


def _backend_secret(settings: dict[str, str]) -> str:
    from pyramidion.realtime import realtime_settings

    return realtime_settings(dict(settings)).secret


def _phases(start_at: float, seconds: float, batch: int) -> list[Phase]:
    """Bare and single frames alternating in halves, then the batches; each starts once the last calls came back."""
    phases: list[Phase] = []
    for kind, frames, length in [
        (BARE, 1, seconds / 2),
        ("frames", 1, seconds / 2),
        (BARE, 1, seconds / 2),
        ("frames", 1, seconds / 2),
        ("frames", batch, seconds),
    ]:
        phases.append((kind, frames, start_at, length))
        start_at += length + 2
    return phases


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
