"""A plugin in its own distribution loads, migrates and serves with no change to the core."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pyramidion.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example plugin pip-installed into a folder of its own, and an ini file for an app using it."""
    tmp = tmp_path_factory.mktemp("hello")
    site = tmp / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(ROOT / "examples" / "hello-plugin"),
        ],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    # Quietly: no setuptools warning for the plugin's data folders (migrations/, console/templates/).
    assert "absent from the `packages` configuration" not in pip.stdout + pip.stderr
    port = free_port()
    ini = tmp / "app.ini"
    ini.write_text(
        f"""[app:main]
use = egg:pyramidion
sqlalchemy.url = sqlite:///{tmp}/app.sqlite
huey.url = immediate
jwt.secret = third-party-test-secret-0123456789abcdef
auth.password_time_cost = 1
auth.password_memory_cost = 64
realtime.port = 1

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
"""
    )
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONWARNINGS": "ignore"}
    return {"ini": str(ini), "env": env, "port": port}


def _pyramidion(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "pyramidion"), *args, installed["ini"]],
        env=installed["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upgrade_migrates_the_new_plugin_in_its_own_history(installed: dict) -> None:
    result = _pyramidion(installed, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "hello: empty -> hello_0001" in result.stdout
    again = _pyramidion(installed, "db", "upgrade")
    assert "hello: already at head" in again.stdout
    check = _pyramidion(installed, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_plugins_command_lists_it_with_its_version(installed: dict) -> None:
    result = _pyramidion(installed, "plugins")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("hello "))
    assert line.startswith("hello 1.0.0 (pyramidion_hello)")
    assert "pyramidion_includeme" in line and "pyramidion_background_tasks" in line


def test_it_serves_its_routes_and_runs_its_task(installed: dict) -> None:
    _pyramidion(installed, "db", "upgrade")
    server = subprocess.Popen([str(BIN / "pserve"), installed["ini"]], env=installed["env"], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{installed['port']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/api/health", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        requests.post(
            f"{base}/api/auth/register",
            json={"username": "ann", "email": "ann@example.com", "password": "correct-horse-9"},
        ).raise_for_status()
        token = requests.post(f"{base}/api/auth/token", json={"username": "ann", "password": "correct-horse-9"}).json()[
            "access"
        ]
        headers = {"Authorization": f"Bearer {token}"}

        created = requests.post(f"{base}/api/hello/greetings", json={"name": "world"}, headers=headers)
        assert created.status_code == 201
        listed = requests.get(f"{base}/api/hello/greetings", headers=headers).json()
        assert listed["count"] == 1
        assert listed["results"][0]["name"] == "world"
        assert listed["results"][0]["delivered_at"] is not None  # the task ran after commit

        plugins = {p["name"]: p for p in requests.get(f"{base}/api/plugins", headers=headers).json()}
        assert plugins["hello"]["version"] == "1.0.0"
        assert plugins["hello"]["distribution"] == "pyramidion-hello"
        paths = requests.get(f"{base}/api/openapi.json").json()["paths"]
        assert "/api/hello/greetings" in paths
    finally:
        server.terminate()
        server.wait(timeout=10)
