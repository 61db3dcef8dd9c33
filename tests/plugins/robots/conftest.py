"""Fixtures for the robots tests: an operator who owns robots, a manager, robots registered through the API,
and ``pyramidion robot-sim`` run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyramidion.testing import TIMEOUT

PYRAMIDION = Path(sys.executable).parent / "pyramidion"


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    return make_user("manager", permissions=["robots.manage"])


@pytest.fixture
def operator(make_user: Callable[..., Any]) -> Any:
    return make_user("operator")


@pytest.fixture
def as_manager(login: Callable[[Any], dict[str, str]], manager: Any) -> dict[str, str]:
    return login(manager)


@pytest.fixture
def as_operator(login: Callable[[Any], dict[str, str]], operator: Any) -> dict[str, str]:
    return login(operator)


@pytest.fixture
def register_robot(app: Any, as_manager: dict[str, str], operator: Any) -> Callable[..., dict[str, Any]]:
    """Register a robot owned by the operator through the API; its JSON includes the secret."""

    def register(serial: str, owner_id: int | None = None, **fields: Any) -> dict[str, Any]:
        body = {"serial": serial, "owner_id": owner_id or operator.id, **fields}
        return app.post_json("/api/robots", body, headers=as_manager, status=201).json

    return register


@pytest.fixture
def join_token(app: Any) -> Callable[[dict[str, Any]], str]:
    """A fresh join token for a registered robot (its JSON from ``register_robot``)."""

    def token(robot: dict[str, Any]) -> str:
        return app.post_json("/api/robots/token", {"serial": robot["serial"], "secret": robot["secret"]}).json["token"]

    return token


class Sim:
    """A running ``pyramidion robot-sim``; its output (stdout and stderr) is collected line by line."""

    def __init__(self, url: str, robot: dict[str, Any], options: tuple[str, ...]) -> None:
        command = [
            str(PYRAMIDION),
            "robot-sim",
            "--serial",
            robot["serial"],
            "--secret",
            robot["secret"],
            "--url",
            url,
            *options,
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        self.lines: list[str] = []
        self.stopped = False
        # Read as it comes, so a full pipe never blocks the simulator.
        self._reader = threading.Thread(target=self._read, name="robot-sim-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        """Terminate it (no goodbye to the router: the connection just drops) and wait until it is gone."""
        self.stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(TIMEOUT)


@pytest.fixture
def start_sim() -> Iterator[Callable[..., Sim]]:
    """``start_sim(url, robot, *options)``: the simulator for a registered robot against the platform at
    ``url``; stopped after the test, whatever happened."""
    sims: list[Sim] = []

    def start(url: str, robot: dict[str, Any], *options: str) -> Sim:
        sims.append(Sim(url, robot, options))
        return sims[-1]

    yield start
    for sim in sims:
        sim.stop()
