"""Charging an event's registrants, in the background.

A run claims each registration not yet charged with a conditional update
(``status != charged``), then debits the wallet. A wallet too low leaves the
registration ``unpaid`` for a later run; the ledger's one-entry-per-registration
rule backs the claim up. So a run is safe to repeat, and two runs at once
charge nobody twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from pyramidion.db import utcnow
from pyramidion.queue import task

from . import wallet
from .models import Event, LedgerKind, Registration, RegistrationStatus


def charge_registrations(db: Any, minimum: Any, event: Event) -> dict[str, int]:
    """Charge every registration of ``event`` not yet charged; counts of what happened."""
    open_ids = list(
        db.scalars(
            select(Registration.id)
            .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.charged)
            .order_by(Registration.id)
        )
    )
    charged = unpaid = 0
    for registration_id in open_ids:
        claimed = db.execute(
            update(Registration)
            .where(Registration.id == registration_id, Registration.status != RegistrationStatus.charged)
            .values(status=RegistrationStatus.charged, charged_at=utcnow())
            .returning(Registration.holder_id, Registration.quantity)
            .execution_options(synchronize_session=False)
        ).first()
        if claimed is None:
            continue  # charged meanwhile by another run
        holder_id, quantity = claimed
        amount = event.cost * quantity
        paid = amount == 0 or wallet.try_debit(
            db,
            minimum,
            holder_id,
            amount,
            LedgerKind.event_charge,
            registration_id=registration_id,
            comment=event.title[:500],
        )
        if paid:
            charged += 1
        else:
            db.execute(
                update(Registration)
                .where(Registration.id == registration_id)
                .values(status=RegistrationStatus.unpaid, charged_at=None)
                .execution_options(synchronize_session=False)
            )
            unpaid += 1
    db.flush()
    return {"charged": charged, "unpaid": unpaid}


@task(retries=3, retry_delay=60)
def charge_event(request: Any, event_id: int) -> dict[str, int] | None:
    """Charge the registrants of an event (``POST /api/bar/events/{id}/charge``)."""
    event = request.db.get(Event, event_id)
    if event is None:
        return None
    return charge_registrations(request.db, request.registry.settings[wallet.MINIMUM_BALANCE], event)
