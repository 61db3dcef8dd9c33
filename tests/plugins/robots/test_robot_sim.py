"""``pyramidion robot-sim`` end to end: the command run as a user runs it, against the platform over real HTTP.

The app is served by waitress on loopback (the simulator asks it for join
tokens), the backend session and a real Crossbar router are up, and the
simulator is a subprocess. The test looks only where a user looks: the REST
API and what the simulator prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pyramidion.testing import TIMEOUT

pytestmark = [pytest.mark.router, pytest.mark.slow]

POLL_INTERVAL = 0.1  # seconds between two looks at a condition that has not come true yet


@pytest.fixture
def platform(start_backend: Callable[..., Any], make_live_server: Callable[..., Any], router: Any) -> str:
    """The platform's web address: the app (publishing to the router) behind waitress, the backend joined."""
    start_backend()
    # The router's settings, not realtime=True: the simulator is no page, so the router needs no new origin.
    return make_live_server(**router.overrides).url


@pytest.fixture
def robot_sim(platform: str, start_sim: Callable[..., Any]) -> Callable[..., Any]:
    """``robot_sim(robot, *options)``: the simulator for a registered robot, against the platform."""
    return lambda robot, *options: start_sim(platform, robot, *options)


@pytest.fixture
def owner(as_operator: dict[str, str]) -> Iterator[requests.Session]:
    """The robots' owner, as an HTTP client."""
    with requests.Session() as http:
        http.headers.update(as_operator)
        yield http


def wait_for(condition: Callable[[], Any], what: str, sim: Any) -> Any:
    """The first truthy value of ``condition()``, asked until it comes or TIMEOUT passes; fails with what the sim said."""
    deadline = time.monotonic() + TIMEOUT
    while not (result := condition()):
        if sim.process.poll() is not None and not sim.stopped:
            pytest.fail(f"the simulator exited ({sim.process.returncode}) before {what}; it said:\n{sim.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {TIMEOUT} s; the simulator said:\n{sim.output()}")
        time.sleep(POLL_INTERVAL)  # bounded polling of a condition, not timing
    return result


def stored_positions(owner: requests.Session, robot_url: str, at_least: int = 0) -> list[dict[str, Any]] | None:
    """The robot's stored positions, newest first, once there are ``at_least`` of them (None before)."""
    found = owner.get(f"{robot_url}/positions", params={"limit": 1000}, timeout=10).json()["results"]
    return found if len(found) >= at_least else None


def test_the_simulated_robot_sends_positions_obeys_commands_and_shows_its_connection(
    platform, owner, register_robot, robot_sim
):
    robot = register_robot("UR-SIM-1")
    robot_url = f"{platform}/api/robots/{robot['id']}"

    def connected() -> bool:
        return owner.get(robot_url, timeout=10).json()["connected"]

    sim = robot_sim(robot, "--rate", "20")

    first = wait_for(lambda: stored_positions(owner, robot_url, at_least=5), "five positions stored", sim)
    frame_ids = [position["frame_id"] for position in first]
    assert len(set(frame_ids)) == len(frame_ids)
    assert {position["state"] for position in first} == {"idle"}  # it has not been told to move yet
    assert wait_for(connected, "the robot shown as connected", sim)
    assert owner.get(robot_url, timeout=10).json()["connected_since"] is not None
    assert sim.said(f"joined as robot:{robot['id']} (UR-SIM-1)")

    sent = owner.post(f"{robot_url}/commands", json={"command": "auto"}, timeout=10)
    assert sent.status_code == 201, sent.text
    command = sent.json()

    def status() -> str:
        history = owner.get(f"{robot_url}/commands", timeout=10).json()["results"]
        return next(c["status"] for c in history if c["id"] == command["id"])

    wait_for(lambda: status() == "acknowledged", "the command acknowledged", sim)
    assert sim.said(f"command {command['id']}: auto -> now auto")
    # Obeyed: it drives now, and its positions say so.
    driving = wait_for(
        lambda: [p for p in stored_positions(owner, robot_url) if p["state"] == "auto"],
        "a position taken in state auto",
        sim,
    )
    assert all(position["speed"] == 0.5 for position in driving)

    sim.stop()

    wait_for(lambda: not connected(), "the robot shown as disconnected", sim)
    assert owner.get(robot_url, timeout=10).json()["connected_since"] is None


def test_the_simulated_robot_sends_positions_in_batches(platform, owner, register_robot, robot_sim):
    robot = register_robot("UR-SIM-2")
    robot_url = f"{platform}/api/robots/{robot['id']}"

    sim = robot_sim(robot, "--batch", "5", "--rate", "50")

    stored = wait_for(lambda: stored_positions(owner, robot_url, at_least=50), "fifty positions stored", sim)
    frame_ids = [position["frame_id"] for position in stored]
    assert len(set(frame_ids)) == len(frame_ids)
    wait_for(
        lambda: sim.said("frames acknowledged in the last second"), "the simulator reporting acknowledged frames", sim
    )
