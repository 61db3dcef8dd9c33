"""Events ("Happen"): managing them, registering for them, charging the registrants.

A charge run claims each registration not yet charged with a conditional
update (``status != charged``), then debits the wallet. A wallet too low
leaves the registration ``unpaid`` for a later run; the ledger's
one-entry-per-registration rule backs the claim up. So a run is safe to
repeat, and two runs at once charge nobody twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, select, update

from pyramidion.api import Conflict, get_or_404
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from ..models import Event, Holder, LedgerEntry, LedgerKind, Registration, RegistrationStatus
from ..schemas import EventIn, RegistrationIn
from . import wallet
from .access import MANAGE, MEMBER, is_staff, require, require_own_holder


def events() -> Any:
    """Events with the places taken (anyone logged in), for a listing to page."""
    return select(Event)


def get_event(db: Any, event_id: Any) -> Event:
    return get_or_404(db, Event, event_id, what="event")


def announce_event(db: Any, caller: Identity, body: EventIn) -> Event:
    """Announce an event (bar managers)."""
    require(db, caller, MANAGE)
    event = Event(**body.model_dump())
    db.add(event)
    db.flush()
    db.refresh(event)  # loads the places taken
    return event


def replace_event(db: Any, caller: Identity, event_id: Any, body: EventIn) -> Event:
    """Change an event (bar managers); registrants charged already keep what they paid."""
    require(db, caller, MANAGE)
    event = get_event(db, event_id)
    for field, value in body.model_dump().items():
        setattr(event, field, value)
    db.flush()
    db.refresh(event)
    return event


def cancel_event(db: Any, caller: Identity, event_id: Any) -> None:
    """Cancel an event nobody has paid for yet (bar managers); 409 otherwise."""
    require(db, caller, MANAGE)
    event = get_event(db, event_id)
    paid = db.scalar(
        select(func.count()).select_from(LedgerEntry).join(Registration).where(Registration.event_id == event.id)
    )
    if paid:
        raise Conflict("registrants of this event were charged already; it cannot be deleted")
    db.delete(event)


def _locked_event(db: Any, event_id: Any) -> Event:
    # Locked (on PostgreSQL; SQLite serialises writers anyway) so concurrent
    # registrations cannot together take more places than there are.
    event = get_event(db, event_id)
    return db.scalar(select(Event).where(Event.id == event.id).with_for_update(of=Event.__table__))


def _places_taken(db: Any, event: Event) -> int:
    # Counted afresh after the lock: what was read before it may be stale.
    return db.scalar(select(func.coalesce(func.sum(Registration.quantity), 0)).where(Registration.event_id == event.id))


def register(db: Any, caller: Identity, event_id: Any, body: RegistrationIn) -> Registration:
    """Register the caller (and guests) while registration is open and places last; 409 otherwise."""
    require(db, caller, MEMBER)
    holder = require_own_holder(db, caller)
    event = _locked_event(db, event_id)
    now = utcnow()
    if not event.registration_opens_at <= now < event.registration_closes_at:
        raise Conflict("registration for this event is not open")
    if db.scalar(select(Registration.id).where(Registration.event_id == event.id, Registration.holder_id == holder.id)):
        raise Conflict("you are registered already")
    if event.max_participants is not None:
        left = event.max_participants - _places_taken(db, event)
        if body.quantity > left:
            raise Conflict(f"the event is full: {max(left, 0)} place(s) left")
    registration = Registration(event_id=event.id, holder_id=holder.id, **body.model_dump())
    db.add(registration)
    db.flush()
    return registration


def registrations(db: Any, caller: Identity, event_id: Any) -> Any:
    """Registrations for an event: all for staff, the caller's own otherwise; for a listing to page."""
    event = get_event(db, event_id)
    stmt = select(Registration).where(Registration.event_id == event.id)
    if not is_staff(db, caller):
        stmt = stmt.join(Holder, Holder.id == Registration.holder_id).where(Holder.user_id == caller.user.id)
    return stmt


def unregister(db: Any, caller: Identity, event_id: Any) -> None:
    """Take back the caller's registration while registration is open and they have not been charged."""
    require(db, caller, MEMBER)
    holder = require_own_holder(db, caller)
    event = _locked_event(db, event_id)
    registration = db.scalar(
        select(Registration).where(Registration.event_id == event.id, Registration.holder_id == holder.id)
    )
    if registration is None:
        raise HTTPNotFound("you are not registered for this event")
    if registration.status is RegistrationStatus.charged:
        raise Conflict("you have been charged for this event already")
    if utcnow() >= event.registration_closes_at:
        raise Conflict("registration for this event has closed")
    db.delete(registration)


def may_charge(db: Any, caller: Identity, event_id: Any) -> Event:
    """The event, if the caller may start its charge run (bar managers); the run itself is a task."""
    require(db, caller, MANAGE)
    return get_event(db, event_id)


def charge_registrations(db: Any, minimum: Decimal, event: Event) -> dict[str, int]:
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


def charge_report(db: Any, caller: Identity, event_id: Any) -> dict[str, Any]:
    """Who has paid for an event, who could not, and how many wait for a run (bar managers)."""
    require(db, caller, MANAGE)
    event = get_event(db, event_id)
    counts = dict(
        db.execute(
            select(Registration.status, func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        ).all()
    )
    unpaid = db.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.unpaid)
        .order_by(Registration.id)
    )
    return {
        "event_id": event.id,
        "charged": counts.get(RegistrationStatus.charged, 0),
        "unpaid": list(unpaid),
        "pending": counts.get(RegistrationStatus.registered, 0),
    }
