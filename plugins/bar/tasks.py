"""Background tasks of the bar."""

from __future__ import annotations

from pyramidion.queue import task
from pyramidion.request import Request

from .models import Event
from .services.events import charge_registrations
from .settings import bar_settings


@task(retries=3, retry_delay=60)
def charge_event(request: Request, event_id: int) -> dict[str, int] | None:
    """Charge the registrants of an event not charged yet (``POST /api/bar/events/{id}/charge``); safe to repeat."""
    event = request.db.get(Event, event_id)
    if event is None:
        return None
    return charge_registrations(request.db, bar_settings(request.registry).wallet_minimum_balance, event)
