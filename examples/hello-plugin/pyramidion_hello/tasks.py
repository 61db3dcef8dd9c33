from __future__ import annotations

from typing import Any

from pyramidion.db import utcnow
from pyramidion.queue import task

from .models import Greeting


@task(retries=2, retry_delay=10)
def deliver_greeting(request: Any, greeting_id: int) -> None:
    greeting = request.db.get(Greeting, greeting_id)
    if greeting is not None and greeting.delivered_at is None:
        greeting.delivered_at = utcnow()
