"""Small helpers the fixtures and the tests share."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

__all__ = ["TIMEOUT", "JoinRefused", "free_port", "recorded_statements", "wait_for"]

TIMEOUT = 20.0  # seconds any single wait may take before the test fails, on a loaded machine too


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    condition: Callable[[], Any],
    timeout: float = TIMEOUT,
    message: str = "condition not met",
    ignoring: tuple[type[BaseException], ...] = (),
) -> Any:
    """Poll ``condition()`` until it is true (bounded by ``timeout`` seconds) and return its value.

    For what happens in another thread or process (a worker, the router);
    the test fails with ``message`` when time runs out. Exceptions of the
    types in ``ignoring`` count as "not yet" (a server still starting refuses
    connections).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message} within {timeout} s")
        time.sleep(0.05)


@contextlib.contextmanager
def recorded_statements(engine: Any) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the ``with`` block, as sent to the driver, in order.

    For tests of how much a request reads (no N+1, nothing at all from a cache)::

        with recorded_statements(app.app.registry.db_engine) as ran:
            app.get("/api/tasks", headers=headers)
        assert len(ran) == 2
    """
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


class JoinRefused(Exception):
    """The router refused to let a WAMP client join; ``reason`` is the WAMP error URI."""

    def __init__(self, reason: str, message: str | None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
