"""The supervisor behind ``pyramidion run``, with real processes killed for real.

Each test runs a supervisor in a process of its own (it installs signal
handlers) over small Python children that write their pid to a file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pyramidion.testing import wait_for

SLEEPER = "import os, pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(600)"
CRASHER = "raise SystemExit(3)"
DRIVER = (
    "import json, sys; from pyramidion.supervisor import Supervisor; "
    "sys.exit(Supervisor(json.loads(sys.argv[1]), min_backoff=0.1, max_backoff=0.4, "
    "stable_after=float(sys.argv[2]), max_restarts=3, grace=5, poll_interval=0.05).run())"
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead to its user; /proc tells it apart.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[1][0] != "Z"


def pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def supervise(tmp_path: Path, children: dict[str, list[str]], stable_after: float = 30.0) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", DRIVER, json.dumps(list(children.items())), str(stable_after)]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def sleeper(pidfile: Path) -> list[str]:
    return [sys.executable, "-c", SLEEPER, str(pidfile)]


def test_a_killed_child_is_restarted_while_the_others_keep_running(tmp_path: Path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    supervisor = supervise(tmp_path, {"web": sleeper(web), "worker": sleeper(worker)})
    try:
        first_web = wait_for(lambda: pid_in(web), message="web to start")
        first_worker = wait_for(lambda: pid_in(worker), message="worker to start")

        os.kill(first_worker, signal.SIGKILL)
        second_worker = wait_for(lambda: (pid := pid_in(worker)) != first_worker and pid, message="worker restarted")

        assert alive(second_worker)
        assert pid_in(web) == first_web and alive(first_web), "the web child must not be touched"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, log = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    assert "run: worker exited with signal SIGKILL" in log and "restarting in" in log
    assert "web exited" not in log
    wait_for(lambda: not alive(first_web) and not alive(second_worker), message="children stopped with the supervisor")


def test_a_child_that_keeps_crashing_is_given_up_on_and_the_run_fails(tmp_path: Path) -> None:
    web = tmp_path / "web.pid"
    supervisor = supervise(tmp_path, {"web": sleeper(web), "router": [sys.executable, "-c", CRASHER]})
    _, log = supervisor.communicate(timeout=60)

    assert supervisor.returncode == 1
    assert log.count("run: router exited with status 3") == 4
    assert "giving up, stopping everything" in log
    web_pid = pid_in(web)
    assert web_pid is not None
    wait_for(lambda: not alive(web_pid), message="the healthy child stopped too")


def test_a_child_that_ran_long_enough_starts_over_at_the_first_attempt(tmp_path: Path) -> None:
    worker = tmp_path / "worker.pid"
    # stable_after=0: every run counts as stable, so no kill brings it nearer to being given up on.
    supervisor = supervise(tmp_path, {"worker": sleeper(worker)}, stable_after=0)
    try:
        for _ in range(5):  # more kills than max_restarts
            pid = wait_for(lambda: pid_in(worker), message="worker running")
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda p=pid: pid_in(worker) not in (None, p), message="worker restarted")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, log = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    assert log.count("(attempt 1 of 3)") == 5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_children_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    web = tmp_path / "web.pid"
    supervisor = supervise(tmp_path, {"web": sleeper(web)})
    child = wait_for(lambda: pid_in(web), message="web to start")
    supervisor.kill()
    supervisor.communicate(timeout=30)
    wait_for(lambda: not alive(child), message="the orphan to end")
