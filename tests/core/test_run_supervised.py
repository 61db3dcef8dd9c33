"""``pyramidion run`` keeps the platform up: each part it starts is killed for
real (SIGKILL), the web keeps serving, the part comes back, and a SIGTERM
stops everything with exit status 0.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pyramidion.realtime.router import crossbar_venv, router_installed
from pyramidion.testing import free_port, wait_for

# Servers starting or restarting refuse connections for a while: that is "not yet".
answered = functools.partial(wait_for, timeout=60, ignoring=(requests.RequestException,))

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.slow, pytest.mark.router]


def children_of(pid: int) -> dict[str, int]:
    """The direct children of ``pid`` by the part they run: web, worker, router, realtime."""
    parts = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) != pid or fields[0] == "Z":
            continue
        command = " ".join(part.decode(errors="replace") for part in cmdline)
        for name, pattern in (
            ("web", r"pserve"),
            ("worker", r" worker "),
            ("realtime", r" realtime "),
            ("router", r"crossbar"),
        ):
            if re.search(pattern, command + " "):
                parts[name] = int(stat.parent.name)
    return parts


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    if not router_installed(crossbar_venv("")):
        pytest.skip("the router is not installed (pyramidion router install)")
    port = free_port()
    ini = (ROOT / "development.ini").read_text()
    ini = ini.replace("%(here)s/var/", f"{tmp_path}/")
    ini = re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{port}", ini, flags=re.M)
    ini = re.sub(r"^realtime.port = .*$", f"realtime.port = {free_port()}", ini, flags=re.M)
    (tmp_path / "run.ini").write_text(ini)
    env = {**os.environ, "PYRAMIDION_REALTIME_NODE_DIR": str(tmp_path / "router")}
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [str(BIN / "pyramidion"), "run", str(tmp_path / "run.ini")],
            stdout=out, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        yield run, f"http://127.0.0.1:{port}", log
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)


def test_a_killed_part_is_restarted_while_the_web_keeps_serving(platform: Any) -> None:
    run, url, log = platform

    def healthy() -> bool:
        health = requests.get(f"{url}/api/health", timeout=10).json()
        return health["status"] == "ok"

    answered(healthy, timeout=120, message="the platform healthy, router included")
    parts = answered(lambda: (p := children_of(run.pid)).keys() >= {"web", "worker", "router", "realtime"} and p)
    web = parts["web"]

    for name in ("worker", "realtime", "router"):
        os.kill(parts[name], signal.SIGKILL)
        assert requests.get(f"{url}/api/", timeout=10).status_code == 200, f"the web stopped when {name} died"
        answered(
            lambda name=name, old=parts[name]: children_of(run.pid).get(name) not in (None, old),
            timeout=60,
            message=f"{name} started again",
        )
        assert f"run: {name} exited with signal SIGKILL" in log.read_text()
        parts = children_of(run.pid)
    answered(healthy, timeout=120, message="the router reachable again")
    assert run.poll() is None
    assert children_of(run.pid)["web"] == web, "the web process served throughout, never restarted"

    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 0
    assert not children_of(run.pid)
