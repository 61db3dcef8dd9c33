"""Quiet, useful logs: an expected failure is one line saying what happens next, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pyramidion.realtime import BackendSession, realtime_settings
from pyramidion.realtime.publisher import Publisher
from pyramidion.realtime.router import CROSSBAR_VERSION
from pyramidion.testing import TIMEOUT, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
PYRAMIDION = Path(sys.executable).parent / "pyramidion"


def test_router_install_shows_its_steps_and_pips_reason_when_it_fails(tmp_path: Path) -> None:
    # No package index and no wheel folder with Crossbar: pip fails at once, after the virtualenv exists.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    venv = tmp_path / "crossbar"
    result = subprocess.run(
        [str(PYRAMIDION), "router", "install", "--venv", str(venv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stdout.splitlines() == [
        f"installing Crossbar {CROSSBAR_VERSION} in {venv}; this takes a minute or two",
        f"  creating the virtualenv {venv}",
        f"  resolving crossbar=={CROSSBAR_VERSION} and numpy<2 with their dependencies",
    ]
    assert f"No matching distribution found for crossbar=={CROSSBAR_VERSION}" in result.stderr
    assert "could not install the router" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


@pytest.fixture
def failing_router() -> Iterator[str]:
    """A loopback HTTP server answering every request 503, as a router in trouble would."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield str(server.server_address[1])
    server.shutdown()
    server.server_close()


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(r.exc_info is None for r in records), "a traceback was logged"
    assert {r.name for r in records} <= {logger}
    return [r.getMessage() for r in records]


@pytest.mark.parametrize("router", ["closed", "failing"])
def test_publishing_while_the_router_is_down_logs_one_line(
    router: str, failing_router: str, registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = failing_router if router == "failing" else str(free_port())
    publisher = Publisher(realtime_settings({**registry.settings, "realtime.port": port}))

    with caplog.at_level(logging.WARNING):
        assert publisher.publish("pyramidion.tasks.changed", {"id": 1}) is False
        assert publisher.publish("pyramidion.tasks.changed", {"id": 2}) is False

    what = "answered 503" if router == "failing" else "not reachable"
    assert warnings_of(caplog, "pyramidion.realtime.publisher") == [
        f"router {what} at http://127.0.0.1:{port}: event on pyramidion.tasks.changed dropped, not retried "
        f"({lost} lost by this process)"
        for lost in (1, 2)
    ]


def test_a_publish_after_the_router_dropped_the_kept_connection_is_delivered_once(
    registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the answer says nothing of closing: the client keeps the connection

        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True  # then drops it, as a router closing an idle connection does

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        publisher = Publisher(realtime_settings({**registry.settings, "realtime.port": server.server_address[1]}))
        with caplog.at_level(logging.WARNING):
            assert publisher.publish("pyramidion.tasks.changed", {"id": 1}) is True
            assert publisher.publish("pyramidion.tasks.changed", {"id": 2}) is True
    finally:
        server.shutdown()
        server.server_close()
    assert [json.loads(body)["args"] for body in received] == [[{"id": 1}], [{"id": 2}]]
    assert warnings_of(caplog, "pyramidion.realtime.publisher") == []


def test_the_realtime_backend_says_when_it_tries_the_router_again(
    registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    session = BackendSession(registry, realtime_settings({**registry.settings, "realtime.port": str(port)}))

    async def two_attempts() -> None:
        running = asyncio.ensure_future(session.run())
        while len(caplog.records) < 2:
            await asyncio.sleep(0.05)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    with caplog.at_level(logging.WARNING):
        asyncio.run(asyncio.wait_for(two_attempts(), TIMEOUT))

    url = f"ws://127.0.0.1:{port}/ws"
    assert warnings_of(caplog, "pyramidion.realtime.backend")[:2] == [
        f"backend cannot reach the router at {url}: Connect call failed ('127.0.0.1', {port}); trying again in 1 s",
        f"backend cannot reach the router at {url}: Connect call failed ('127.0.0.1', {port}); trying again in 2 s",
    ]


@pytest.mark.router
@pytest.mark.slow
def test_the_realtime_backend_rides_out_a_router_restart_in_one_line_per_attempt(
    router: Any, start_backend: Any, caplog: pytest.LogCaptureFixture
) -> None:
    backend = start_backend()
    backend.session.joined.clear()

    with caplog.at_level(logging.WARNING):
        router.restart()
        wait_for(backend.session.joined.is_set, message="the backend joined again")

    lines = warnings_of(caplog, "pyramidion.realtime.backend")
    url = router.config.websocket_url
    assert lines[0] == f"backend lost the router at {url}; trying again in 0.5 s"
    assert all(line.startswith(f"backend cannot reach the router at {url}: ") for line in lines[1:])


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as a JSON object (fails on a line that is not one)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_logs_are_json_lines_when_the_environment_says_so(ini: str) -> None:
    # The ini's own logging set-up, as pserve, gunicorn and every command do it, and a failure with its traceback.
    script = (
        "import logging, sys\nimport pyramidion  # as the commands: Pyramid's pkg_resources warning filtered\n"
        "from pyramid.paster import setup_logging\n"
        "setup_logging(sys.argv[1])\n"
        "log = logging.getLogger('pyramidion.test')\n"
        "log.warning('router not reachable; trying again in %s s', 2)\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    log.exception('a bug')\n"
    )
    env = {**os.environ, "PYRAMIDION_LOGGING_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / ini)], capture_output=True, text=True, env=env, check=True
    )

    warning, failure = json_lines(result.stderr)
    assert set(warning) == {"time", "level", "logger", "message", "process", "thread"}
    assert (warning["level"], warning["logger"], warning["message"]) == (
        "WARNING",
        "pyramidion.test",
        "router not reachable; trying again in 2 s",
    )
    assert dt.datetime.fromisoformat(warning["time"]).tzinfo == dt.UTC
    assert (failure["level"], failure["message"]) == ("ERROR", "a bug")
    assert failure["exception"].startswith("Traceback (most recent call last):")
    assert failure["exception"].endswith("ZeroDivisionError: division by zero")


def test_a_command_logs_json_lines(tmp_path: Path) -> None:
    # The realtime backend against a router that is not there: its warnings, as JSON.
    env = {
        **os.environ,
        "PYRAMIDION_LOGGING_FORMAT": "json",
        "PYRAMIDION_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/db.sqlite",
        "PYRAMIDION_HUEY_URL": f"sqlite:///{tmp_path}/huey.sqlite",
        "PYRAMIDION_REALTIME_PORT": str(free_port()),
    }
    backend = subprocess.Popen(
        [str(PYRAMIDION), "realtime", str(ROOT / "development.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert backend.stderr is not None
        first = json.loads(backend.stderr.readline())
    finally:
        backend.terminate()
        backend.wait(TIMEOUT)
    assert (first["level"], first["logger"]) == ("WARNING", "pyramidion.realtime.backend")
    assert first["message"].startswith("backend cannot reach the router at ")


def test_plain_text_stays_the_default_and_a_wrong_format_says_so() -> None:
    script = "import logging, sys\nimport pyramidion\nfrom pyramid.paster import setup_logging\nsetup_logging(sys.argv[1])\nlogging.getLogger('pyramidion.test').warning('hello')\n"
    env = {**os.environ, "PYRAMIDION_LOGGING_FORMAT": "xml"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "development.ini")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    said, logged = result.stderr.splitlines()
    assert said == "PYRAMIDION_LOGGING_FORMAT: 'xml' is not one of text, json; logging text"
    assert logged.endswith("WARNI [pyramidion.test] hello")  # the ini's format line
