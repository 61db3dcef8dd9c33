"""A run outlives its worker: killed for real mid-run, the run fails as "worker lost" within the bound, and is relaunched.

Each worker is a process of its own (``lease_worker.py``: the app and consumer
``pyramidion worker`` runs) on the test's real queue (Redis or a SQLite
file) and database. The runs hold host h2 and h3 until the test creates a
file, so the test kills (SIGKILL) or stops (SIGSTOP) a worker while it runs one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lease_worker import PLUGINS
from sqlalchemy import select
from webtest import TestApp

from pyramidion.db import utcnow
from pyramidion.testing import TIMEOUT, wait_for
from pyramidion.testing.browser import webtest_console_login
from pyramidion_jobs.models import Run
from pyramidion_jobs.realtime import run_topic
from pyramidion_jobs.services import mark_lost_runs

LEASE = 4  # seconds (jobs.lease_seconds): short, so a lost run fails within seconds
# A dead worker's run fails within twice its lease (README); the rest is room for a loaded machine.
LOST_WITHIN = 2 * LEASE + 15
STARTS_WITHIN = 60  # seconds for a worker process to start and take a task, on a loaded machine
HOSTS = "h1: {data: {hold: false}}\nh2: {data: {hold: true}}\nh3: {data: {hold: true}}\n"
WORKER = Path(__file__).with_name("lease_worker.py")


class Worker:
    """One worker process and its log."""

    def __init__(self, settings_file: Path, log: Path, periodic: bool) -> None:
        self.log_file = log
        with log.open("wb") as out:
            command = [sys.executable, str(WORKER), str(settings_file), *(["--periodic"] if periodic else [])]
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=TIMEOUT)


class Platform:
    """The web app (this process, WebTest) and the workers started beside it, on one queue and database."""

    def __init__(self, app: TestApp, settings: dict[str, Any], folder: Path) -> None:
        self.app = app
        self.folder = folder
        self.settings_file = folder / "worker-settings.json"
        self.settings_file.write_text(json.dumps(settings))
        self.workers: list[Worker] = []

    def start_worker(self, name: str, periodic: bool = False) -> Worker:
        worker = Worker(self.settings_file, self.folder / f"{name}.log", periodic)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.signal(signal.SIGCONT)  # a stopped one would not die of SIGTERM
                worker.kill()
        self.app.app.registry.huey.flush()


@pytest.fixture
def platform(make_app: Callable[..., TestApp], base_settings: dict[str, Any], tmp_path: Path) -> Iterator[Callable]:
    """``platform(**settings)``: the web app, with workers to start on the same queue."""
    started = []

    def build(**overrides: Any) -> Platform:
        queue = os.environ.get("PYRAMIDION_TEST_REDIS_URL") or f"sqlite:///{tmp_path / 'huey.db'}"
        settings = {
            **base_settings,
            "huey.url": queue,
            "huey.name": f"lease-{uuid.uuid4().hex}",
            "jobs.lease_seconds": str(LEASE),
            "jobs.flush_interval": "0",
            **overrides,
        }
        started.append(Platform(make_app(PLUGINS, **settings), settings, tmp_path))
        return started[-1]

    yield build
    for each in started:
        each.stop()


@pytest.fixture
def root(make_user):
    return make_user("root", superuser=True)


def launch_held_run(platform: Platform, headers: dict[str, str], release: Path) -> dict[str, Any]:
    """A serial run of wait_for_release on h1 (goes on), h2 and h3 (held until ``release`` exists)."""
    app = platform.app
    app.put_json("/api/jobs/configuration", {"runner": "serial", "num_workers": 1}, headers=headers)
    inventory = app.post_json(
        "/api/jobs/inventories/import", {"name": "lab", "hosts": HOSTS}, headers=headers, status=201
    ).json["inventory"]["id"]
    return app.post_json(
        "/api/jobs/runs",
        {"template": "wait_for_release", "inventory_id": inventory, "variables": {"release": str(release)}},
        headers=headers,
        status=202,
    ).json


def hosts_of(app: TestApp, headers: dict[str, str], run_id: int) -> dict[str, dict[str, Any]]:
    page = app.get(f"/api/jobs/runs/{run_id}/hosts", headers=headers).json
    return {host["host"]: host for host in page["results"]}


def run_of(app: TestApp, headers: dict[str, str], run_id: int) -> dict[str, Any]:
    return app.get(f"/api/jobs/runs/{run_id}", headers=headers).json


def held_on_h2(app: TestApp, headers: dict[str, str], run_id: int) -> bool:
    """The run is running and h1 is done: the serial runner is on h2, which waits."""
    return run_of(app, headers, run_id)["status"] == "running" and "h1" in hosts_of(app, headers, run_id)


def lease_of(in_transaction: Callable, run_id: int) -> dt.datetime | None:
    return in_transaction(lambda db: db.scalar(select(Run.lease_expires_at).where(Run.id == run_id)))


def assert_lost_on_h2_and_h3(app: TestApp, headers: dict[str, str], run_id: int) -> None:
    run = run_of(app, headers, run_id)
    assert run["status"] == "failed"
    assert run["error"].startswith("worker lost")
    assert (run["hosts_total"], run["hosts_failed"]) == (3, 2)
    hosts = hosts_of(app, headers, run_id)
    assert hosts["h1"]["status"] == "finished"
    for name in ("h2", "h3"):  # the one it was on and the one it never began: neither shows as running
        assert hosts[name]["status"] == "failed"
        assert "worker lost" in hosts[name]["result"][0]["exception"]


def relaunch_on_h2_and_h3_finishes(app: TestApp, headers: dict[str, str], run_id: int, release: Path) -> None:
    """Relaunched on its failed hosts, the lost run's hosts run again on a live worker, and it stays as it was."""
    release.touch()
    again = app.post_json(f"/api/jobs/runs/{run_id}/relaunch", {}, headers=headers, status=202).json
    assert again["filters"]["hosts"] == ["h2", "h3"]
    wait_for(
        lambda: run_of(app, headers, again["id"])["status"] == "finished",
        timeout=STARTS_WITHIN,
        message="the relaunch did not finish",
    )
    assert {h: r["status"] for h, r in hosts_of(app, headers, again["id"]).items()} == {
        "h2": "finished",
        "h3": "finished",
    }
    assert run_of(app, headers, run_id)["status"] == "failed"


def test_a_killed_workers_run_fails_as_worker_lost_live_and_is_relaunched_on_another_worker(
    platform, router, start_backend, root, login, ticket, wamp_client, tmp_path
):
    start_backend()
    lab = platform(**router.overrides)
    app, headers = lab.app, login(root)
    release = tmp_path / "release"
    doomed = lab.start_worker("doomed")
    run = launch_held_run(lab, headers, release)
    wait_for(lambda: held_on_h2(app, headers, run["id"]), timeout=STARTS_WITHIN, message="the run never reached h2")
    # The one periodic worker, up and looking (its first minute's check runs at its start) before the kill.
    keeper = lab.start_worker("keeper", periodic=True)
    wait_for(
        lambda: "find_lost_runs: " in keeper.log(), timeout=STARTS_WITHIN, message="the periodic worker did not start"
    )
    events = wamp_client(ticket(root)).subscribe(run_topic(run["id"]))

    doomed.kill()
    wait_for(
        lambda: run_of(app, headers, run["id"])["status"] == "failed",
        timeout=LOST_WITHIN,
        message="the killed worker's run was not failed",
    )

    assert_lost_on_h2_and_h3(app, headers, run["id"])
    assert f"run {run['id']} failed: worker lost" in keeper.log()
    heard = []
    while not any(event.get("status") == "failed" for event in heard):
        args, _ = events.get(timeout=TIMEOUT)
        heard.append(args[0])
    lost_hosts = {host["host"] for event in heard for host in event.get("hosts", []) if host["event"] == "failed"}
    assert lost_hosts == {"h2", "h3"}
    console = TestApp(app.app)
    webtest_console_login(console, root.username)
    page = console.get(f"/console/jobs/runs/{run['id']}")
    assert "worker lost" in page.text
    assert "Relaunch on the 2 failed hosts" in page.text

    relaunch_on_h2_and_h3_finishes(app, headers, run["id"], release)


def test_a_starting_worker_fails_the_run_a_dead_worker_left_running(platform, root, login, tmp_path, in_transaction):
    lab = platform()
    app, headers = lab.app, login(root)
    release = tmp_path / "release"
    doomed = lab.start_worker("doomed")
    run = launch_held_run(lab, headers, release)
    wait_for(lambda: held_on_h2(app, headers, run["id"]), timeout=STARTS_WITHIN, message="the run never reached h2")
    doomed.kill()
    wait_for(lambda: lease_of(in_transaction, run["id"]) < utcnow(), timeout=LEASE + 15)
    assert run_of(app, headers, run["id"])["status"] == "running"  # no worker left to notice

    successor = lab.start_worker("successor")  # not the periodic one: only its start looks
    wait_for(
        lambda: run_of(app, headers, run["id"])["status"] == "failed",
        timeout=STARTS_WITHIN,
        message="the new worker did not fail it",
    )

    assert_lost_on_h2_and_h3(app, headers, run["id"])
    assert f"run {run['id']} failed: worker lost" in successor.log()
    relaunch_on_h2_and_h3_finishes(app, headers, run["id"], release)


def test_a_live_run_outlasting_its_lease_is_never_taken_for_lost(platform, root, login, tmp_path, in_transaction):
    lab = platform()
    app, headers = lab.app, login(root)
    release = tmp_path / "release"
    lab.start_worker("worker", periodic=True)  # runs the run and looks for lost runs every LEASE seconds
    run = launch_held_run(lab, headers, release)
    wait_for(lambda: held_on_h2(app, headers, run["id"]), timeout=STARTS_WITHIN, message="the run never reached h2")
    first_lease = lease_of(in_transaction, run["id"])

    # Held on h2 for more than two leases: renewed all along, by the worker's lease thread.
    wait_for(
        lambda: lease_of(in_transaction, run["id"]) > first_lease + dt.timedelta(seconds=2 * LEASE),
        timeout=2 * LEASE + 15,
    )
    assert in_transaction(lambda db: mark_lost_runs(db, lab.app.app.registry.realtime)) == []
    assert run_of(app, headers, run["id"])["status"] == "running"

    release.touch()
    wait_for(lambda: run_of(app, headers, run["id"])["status"] == "finished", message="the run did not finish")
    done = run_of(app, headers, run["id"])
    assert (done["error"], done["hosts_total"], done["hosts_failed"]) == (None, 3, 0)
    assert {host["status"] for host in hosts_of(app, headers, run["id"]).values()} == {"finished"}


def test_a_worker_that_was_only_slow_finds_its_run_lost_and_changes_nothing(platform, root, login, tmp_path):
    lab = platform()
    app, headers = lab.app, login(root)
    release = tmp_path / "release"
    slow = lab.start_worker("slow")
    run = launch_held_run(lab, headers, release)
    wait_for(lambda: held_on_h2(app, headers, run["id"]), timeout=STARTS_WITHIN, message="the run never reached h2")
    slow.signal(signal.SIGSTOP)  # frozen: no renewal, as if gone
    lab.start_worker("keeper", periodic=True)
    wait_for(lambda: run_of(app, headers, run["id"])["status"] == "failed", timeout=STARTS_WITHIN + LOST_WITHIN)
    assert_lost_on_h2_and_h3(app, headers, run["id"])

    release.touch()  # h2 would now finish, and h3 run
    slow.signal(signal.SIGCONT)
    wait_for(lambda: f"run {run['id']} stopped: it stays failed as 'worker lost'" in slow.log(), timeout=LOST_WITHIN)

    assert_lost_on_h2_and_h3(app, headers, run["id"])  # not one result of the slow worker's replaced them
    assert "released" not in json.dumps(hosts_of(app, headers, run["id"])["h2"]["result"])
