"""``pyramidion robot-sim`` when it cannot connect: one line per failed attempt, then it gives up with one line
and a non-zero exit status, unless told to retry for ever. A real subprocess against closed ports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pyramidion.testing import TIMEOUT, free_port, wait_for

UNKNOWN = {"serial": "UR-NOWHERE", "secret": "not-a-secret"}


@pytest.fixture
def platform(live_server: Any) -> str:
    """The platform's web address: the app behind waitress on loopback (no router)."""
    return live_server.url


def test_it_gives_up_after_the_tries_when_the_platform_is_unreachable(start_sim: Callable[..., Any]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sim = start_sim(url, UNKNOWN, "--tries", "2")

    assert sim.process.wait(TIMEOUT) == 1
    sim.stop()
    assert sim.lines == [
        f"{sim.lines[0][:9]}cannot get a token from {url}: not reachable; trying again in 2 s (1 attempt(s) left)\n",
        f"robot-sim: gave up after 2 failed tries: cannot get a token from {url}: not reachable\n",
    ]


def test_it_gives_up_when_the_router_is_unreachable(
    platform: str, register_robot: Callable[..., dict[str, Any]], start_sim: Callable[..., Any]
) -> None:
    robot = register_robot("UR-NO-ROUTER")
    router = f"ws://127.0.0.1:{free_port()}/ws"
    sim = start_sim(platform, robot, "--router", router, "--tries", "1")

    assert sim.process.wait(TIMEOUT) == 1
    sim.stop()
    last = sim.lines[-1]
    assert last.startswith(f"robot-sim: gave up after 1 failed tries: cannot reach the router at {router}: ")
    assert "Traceback" not in sim.output()


def test_told_to_retry_for_ever_it_keeps_trying(start_sim: Callable[..., Any]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sim = start_sim(url, UNKNOWN, "--retry-forever")

    failures = wait_for(lambda: [line for line in sim.lines if "not reachable" in line][1:], message="two failures")
    assert "trying again in 2 s (retrying for ever)" in failures[0]
    assert sim.process.poll() is None
