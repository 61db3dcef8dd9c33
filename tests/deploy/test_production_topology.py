"""The production topology on one machine, started with the commands the
systemd units of deploy/ run: two web processes (pserve, gunicorn), two
workers of which one runs periodic tasks, the router and its backend session,
on PostgreSQL and Redis.

It runs when the suite runs on PostgreSQL and Redis (as CI's second pass
does) and the router is installed.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from pyramidion.testing import free_port, wait_for

# Servers starting or restarting refuse connections for a while: that is "not yet".
answered = functools.partial(wait_for, timeout=60, ignoring=(requests.RequestException,))

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN, ADMIN_PASSWORD = "operator", "topology-password-1"
# "2026-12-01 10:17:00,012 INFO  [huey.consumer.Scheduler][MainThread] Enqueueing periodic task NAME: ID."
ENQUEUED = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\S* .*Enqueueing periodic task (\S+): (\S+)\."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.router,
    pytest.mark.skipif(
        not (os.environ.get("PYRAMIDION_TEST_DATABASE_URL") and os.environ.get("PYRAMIDION_TEST_REDIS_URL")),
        reason="the production topology needs PostgreSQL and Redis (PYRAMIDION_TEST_DATABASE_URL, _REDIS_URL)",
    ),
]


class Topology:
    """The processes, their logs, and a way to call each web process."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}

    def run(self, *argv: str) -> str:
        result = subprocess.run(argv, env=self.env, cwd=self.directory, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"{' '.join(argv)}: {result.stdout}{result.stderr}"
        return result.stdout

    def start(self, name: str, *argv: str) -> None:
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps it
        self.processes[name] = subprocess.Popen(argv, env=self.env, cwd=self.directory, stdout=log, stderr=log)

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def api(self, web: str, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.urls[web] + path, headers=headers, timeout=30, **kwargs)


def _ini(directory: Path, name: str, port: int) -> Path:
    """production.ini as an operator installs it, binding ``port``, with Huey's INFO lines logged."""
    ini = (ROOT / "production.ini").read_text()
    ini = re.sub(r"^bind = .*$", f"bind = 127.0.0.1:{port}", ini, flags=re.M)
    ini = re.sub(r"^workers = \d+$", "workers = 2", ini, flags=re.M)  # two cores for the whole topology
    ini = ini.replace("keys = root, pyramidion\n", "keys = root, pyramidion, huey\n")
    ini += "\n[logger_huey]\nlevel = INFO\nhandlers =\nqualname = huey\n"
    path = directory / name
    path.write_text(ini)
    return path


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    from pyramidion.realtime.router import crossbar_venv, router_installed

    if not router_installed(crossbar_venv("")):
        pytest.skip("the router is not installed (pyramidion router install)")
    server = make_url(os.environ["PYRAMIDION_TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    database = f"pyramidion_topology_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    huey_name = f"pyramidion-topology-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYRAMIDION_DATABASE_URL": server.set(database=database).render_as_string(hide_password=False),
        "PYRAMIDION_REDIS_URL": os.environ["PYRAMIDION_TEST_REDIS_URL"],
        "PYRAMIDION_HUEY_NAME": huey_name,
        "PYRAMIDION_JWT_SECRET": uuid.uuid4().hex * 2,
        "PYRAMIDION_REALTIME_PORT": str(free_port()),
        "PYRAMIDION_REALTIME_NODE_DIR": str(tmp_path / "router"),
        "PYRAMIDION_TASKS_ATTACHMENTS_PATH": str(tmp_path / "attachments"),
    }
    ports = {"web-a": free_port(), "web-b": free_port()}
    inis = {web: _ini(tmp_path, f"{web}.ini", port) for web, port in ports.items()}
    ini = str(inis["web-a"])
    platform = Topology(tmp_path, env)
    platform.urls = {web: f"http://127.0.0.1:{port}" for web, port in ports.items()}
    try:
        pyramidion = str(BIN / "pyramidion")
        platform.run(pyramidion, "db", "upgrade", ini)
        platform.run(pyramidion, "create-groups", ini)
        platform.run(
            pyramidion, "createsuperuser", ini, "--username", ADMIN, "--email", "ops@example.com",
            "--password", ADMIN_PASSWORD,
        )  # fmt: skip
        # The commands of deploy/systemd, one process each.
        platform.start("router", pyramidion, "router", "start", ini)
        platform.start("realtime", pyramidion, "realtime", ini)
        platform.start("worker", pyramidion, "worker", ini)
        platform.start("worker-more", pyramidion, "worker", ini, "--no-periodic")
        for web, path in inis.items():
            platform.start(web, str(BIN / "pserve"), str(path))
        for web in inis:
            answered(
                lambda web=web: platform.api(web, "GET", "/api/health").json().get("status") == "ok",
                message=f"{web} healthy with the router reachable",
            )
        yield platform
    finally:
        platform.stop()
        import redis

        client = redis.Redis.from_url(env["PYRAMIDION_REDIS_URL"])
        for key in client.scan_iter(f"*{huey_name}*"):
            client.delete(key)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _login(platform: Topology, web: str) -> dict[str, Any]:
    answer = platform.api(web, "POST", "/api/auth/token", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _inventory(platform: Topology, token: str) -> int:
    inventory = platform.api("web-a", "POST", "/api/jobs/inventories", token, json={"name": "lab"})
    assert inventory.status_code == 201, inventory.text
    for number in (1, 2):
        host = {"name": f"r{number}", "hostname": f"10.0.0.{number}"}
        added = platform.api("web-a", "POST", f"/api/jobs/inventories/{inventory.json()['id']}/hosts", token, json=host)
        assert added.status_code == 201, added.text
    return int(inventory.json()["id"])


def _launch(platform: Topology, web: str, token: str, inventory_id: int) -> int:
    run = platform.api(
        web, "POST", "/api/jobs/runs", token, json={"template": "hello_world", "inventory_id": inventory_id}
    )
    assert run.status_code == 202, run.text
    return int(run.json()["id"])


def _finished(platform: Topology, web: str, token: str, run_id: int) -> bool:
    return platform.api(web, "GET", f"/api/jobs/runs/{run_id}", token).json()["status"] == "finished"


def test_production_topology(topology: Topology) -> None:
    platform = topology
    started = time.monotonic()

    # A logout through one web process is refused by the other within
    # auth.identity_cache_seconds (1 s: each process caches identities, see pyramidion.auth.cache).
    tokens = _login(platform, "web-a")
    assert platform.api("web-b", "GET", "/api/auth/me", tokens["access"]).status_code == 200
    assert platform.api("web-a", "POST", "/api/auth/logout", tokens["access"], json={"refresh": tokens["refresh"]}).ok
    wait_for(
        lambda: platform.api("web-b", "GET", "/api/auth/me", tokens["access"]).status_code == 401,
        timeout=3,
        message="web-b to refuse the logged-out token",
    )

    # A job launched through one web process runs on a worker; the other web process sees it finish.
    token = _login(platform, "web-b")["access"]
    inventory_id = _inventory(platform, token)
    run_id = _launch(platform, "web-a", token, inventory_id)
    answered(lambda: _finished(platform, "web-b", token, run_id), message="the run to finish on a worker")

    # A robot's frames go through the router and the backend into the database.
    me = platform.api("web-a", "GET", "/api/auth/me", token).json()
    new_robot = {"serial": "TOPO-1", "name": "topology", "owner_id": me["id"]}
    robot = platform.api("web-a", "POST", "/api/robots", token, json=new_robot)
    assert robot.status_code == 201, robot.text
    sim = subprocess.Popen(
        [str(BIN / "pyramidion"), "robot-sim", "--serial", "TOPO-1",
         "--secret", robot.json()["secret"], "--rate", "10", "--url", platform.urls["web-b"]],
        env=platform.env, cwd=platform.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        positions = f"/api/robots/{robot.json()['id']}/positions"
        answered(
            lambda: platform.api("web-a", "GET", positions, token).json()["count"] >= 5,
            message="five of the robot's frames stored",
        )
    finally:
        sim.terminate()
        sim.wait(timeout=20)

    # Queued work survives a killed worker: what it had not taken, the other one runs.
    platform.processes["worker-more"].send_signal(signal.SIGKILL)
    platform.processes["worker-more"].wait(timeout=20)
    runs = [_launch(platform, "web-b", token, inventory_id) for _ in range(3)]
    for queued in runs:
        answered(lambda queued=queued: _finished(platform, "web-a", token, queued), message=f"run {queued} to finish")

    # Periodic tasks: only the periodic consumer enqueues them, each once per minute, and each runs once.
    answered(
        lambda: re.search(ENQUEUED, platform.log("worker")) and time.monotonic() - started > 61,
        timeout=150,
        message="a minute of both workers, with a periodic task enqueued",
    )
    enqueued = re.findall(ENQUEUED, platform.log("worker"))
    assert "Enqueueing periodic task" not in platform.log("worker-more")
    # Once per period: a second scheduler would enqueue each task again within the same second or so;
    # the one scheduler's ticks are a minute apart (its first comes at start, not on the minute).
    times: dict[str, list[dt.datetime]] = collections.defaultdict(list)
    for at, name, _ in enqueued:
        times[name].append(dt.datetime.fromisoformat(at))
    for name, ticks in times.items():
        gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(ticks)]
        assert all(gap >= 30 for gap in gaps), (name, ticks)
    for _, name, task_id in enqueued:
        executed = f"Executing {name}: {task_id}"
        answered(
            lambda executed=executed: executed in platform.log("worker") + platform.log("worker-more"),
            message=f"periodic {name} executed",
        )
        assert (platform.log("worker") + platform.log("worker-more")).count(executed) == 1
