"""The robots plugin's background tasks."""

from __future__ import annotations

from pyramidion.queue import crontab, periodic_task
from pyramidion.request import Request

from . import services


@periodic_task(crontab(minute="17"))
def purge_join_records(request: Request) -> None:
    """Hourly: spent and expired join tokens."""
    services.purge_join_tokens(request.db)
