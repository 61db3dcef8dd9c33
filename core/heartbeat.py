"""The workers' heartbeat: proof that background work is being taken, for health and the dashboard.

A worker thread asks the queue for its next task right after each task and,
while idle, at least every 10 seconds (Huey's polling backs off to its
``max_delay``, 10 s; on Redis each ask blocks for a second). Each ask
records the time in Huey's own storage (Redis or the SQLite file), which
every web process reads, at most once per :data:`BEAT_EVERY` seconds per
worker process. So a heartbeat older than ``health.worker_within`` seconds
means that no worker took work for that long: none runs, or every thread is
stuck in a task, whatever the queue says.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

KEY = "pyramidion:worker-heartbeat"
BEAT_EVERY = 5.0  # seconds between two writes of one worker process: a Redis or SQLite write, not per ask


class Heartbeat:
    """Records, at most every :data:`BEAT_EVERY` seconds, that a worker of this process asked for work."""

    def __init__(self, huey: Any) -> None:
        self.huey = huey
        self.last = 0.0
        self.lock = threading.Lock()

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last < BEAT_EVERY or not self.lock.acquire(blocking=False):
            return
        try:
            self.huey.put(KEY, time.time())
            self.last = now
        finally:
            self.lock.release()


def install(huey: Any) -> None:
    """Beat whenever a worker thread of this process asks ``huey`` for a task.

    Huey has no hook for the ask itself (its signals fire only around tasks),
    so the instance's ``dequeue`` is wrapped; web processes never call it.
    """
    heartbeat = Heartbeat(huey)
    dequeue = huey.dequeue

    def dequeue_and_beat() -> Any:
        task = dequeue()
        # The storage failing just after the ask: the next ask beats again.
        with contextlib.suppress(Exception):
            heartbeat.beat()
        return task

    huey.dequeue = dequeue_and_beat


def last_beat(huey: Any) -> float | None:
    """When a worker last asked for work (seconds since the epoch), or None if never."""
    return huey.get(KEY, peek=True)


def worker_status(huey: Any, within: float, now: float | None = None) -> tuple[bool, str]:
    """Whether a worker asked for work in the last ``within`` seconds, and a sentence saying so."""
    if huey.immediate:
        return True, "tasks run in the web process (huey.url = immediate)"
    beaten = last_beat(huey)
    if beaten is None:
        return False, "no worker has taken work yet (none started)"
    age = max(0, int((now or time.time()) - beaten))
    if age > within:
        return False, f"no worker took work for {age} s (more than health.worker_within = {within:g} s)"
    return True, f"alive: a worker took work {age} s ago"


def includeme(config: Any) -> None:
    install(config.registry.huey)
