"""Background tasks of hello, run by the worker after the request commits."""

from __future__ import annotations

from pyramidion.db import utcnow
from pyramidion.queue import task
from pyramidion.request import Request

from .models import Greeting


@task(retries=2, retry_delay=10)
def deliver_greeting(request: Request, greeting_id: int) -> None:
    """Mark a greeting delivered (once; a greeting deleted meanwhile is skipped)."""
    greeting = request.db.get(Greeting, greeting_id)
    if greeting is not None and greeting.delivered_at is None:
        greeting.delivered_at = utcnow()
