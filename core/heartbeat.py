"""The workers' heartbeat: proof that background work is being done, for the dashboard and health.

A periodic task runs every minute (and each worker beats once as it starts);
whichever worker picks it up records the time in Huey's own storage (Redis or the SQLite file), which every web
process reads. No beat for :data:`ALIVE_WITHIN` seconds means no worker is
taking tasks (none running, or all stuck), whatever the queue says.
"""

from __future__ import annotations

import time
from typing import Any

from .queue import crontab, periodic_task, register_tasks
from .request import Request

KEY = "pyramidion:worker-heartbeat"
ALIVE_WITHIN = 150  # seconds: two missed beats and a half


@periodic_task(crontab(minute="*"))
def beat(request: Request) -> None:
    """Record that a worker is taking tasks."""
    request.registry.huey.put(KEY, time.time())


def last_beat(huey: Any) -> float | None:
    """When a worker last beat (seconds since the epoch), or None if never."""
    return huey.get(KEY, peek=True)


def worker_status(huey: Any, now: float | None = None) -> tuple[bool, str]:
    """Whether a worker is alive, and a sentence saying so."""
    if huey.immediate:
        return True, "tasks run in the web process (huey.url = immediate)"
    beaten = last_beat(huey)
    if beaten is None:
        return False, "no worker has beaten yet (none started, or started less than a minute ago)"
    age = int((now or time.time()) - beaten)
    if age > ALIVE_WITHIN:
        return False, f"last heartbeat {age} s ago: no worker is taking tasks"
    return True, f"alive, last heartbeat {age} s ago"


def includeme(config: Any) -> None:
    huey = config.registry.huey
    register_tasks(config.registry, huey, [beat])

    # Also at each worker's start, so a fresh worker shows as alive at once, not a minute later.
    @huey.on_startup("pyramidion-heartbeat")
    def beat_at_start() -> None:
        huey.put(KEY, time.time())
