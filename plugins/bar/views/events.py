"""Events ("Happen"): managing them, registering for them, charging the registrants."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, select

from pyramidion.api import Conflict, Filter, Listing, Page, Timestamp, api_view
from pyramidion.db import utcnow

from ..access import MANAGE, MEMBER, get_or_404, is_staff, require_own_holder
from ..events import charge_event
from ..models import Event, Holder, LedgerEntry, Registration, RegistrationStatus
from ..schemas import ChargeQueued, ChargeReport, EventIn, EventOut, RegistrationIn, RegistrationOut

events = Listing(
    key=Event.id,
    ordering={"id": Event.id, "starts_at": Event.starts_at, "title": Event.title},
    default_ordering="-starts_at",
    search=[Event.title, Event.description],
    filters={"starts_after": Filter(Event.starts_at, Timestamp, "gte")},
)


@api_view("bar.events", query=events, response=Page[EventOut])
def list_events(request: Any, query: Any) -> dict[str, Any]:
    """Events, latest first, with the places taken."""
    return query.page(select(Event))


@api_view("bar.events", request_method="POST", body=EventIn, response=EventOut, status=201, permission=MANAGE)
def create_event(request: Any, body: EventIn) -> Event:
    """Announce an event (bar managers)."""
    event = Event(**body.model_dump())
    request.db.add(event)
    request.db.flush()
    request.db.refresh(event)  # loads the places taken
    return event


@api_view("bar.event", response=EventOut)
def get_event(request: Any) -> Event:
    """One event."""
    return get_or_404(request, Event, what="event")


@api_view("bar.event", request_method="PUT", body=EventIn, response=EventOut, permission=MANAGE)
def replace_event(request: Any, body: EventIn) -> Event:
    """Change an event (bar managers); registrants charged already keep what they paid."""
    event = get_or_404(request, Event, what="event")
    for field, value in body.model_dump().items():
        setattr(event, field, value)
    request.db.flush()
    request.db.refresh(event)
    return event


@api_view(
    "bar.event",
    request_method="DELETE",
    status=204,
    permission=MANAGE,
    responses={409: "Registrants were charged already"},
)
def delete_event(request: Any) -> None:
    """Cancel an event nobody has paid for yet (bar managers)."""
    event = get_or_404(request, Event, what="event")
    paid = request.db.scalar(
        select(func.count()).select_from(LedgerEntry).join(Registration).where(Registration.event_id == event.id)
    )
    if paid:
        raise Conflict("registrants of this event were charged already; it cannot be deleted")
    request.db.delete(event)


def _locked_event(request: Any) -> Event:
    # Locked (on PostgreSQL; SQLite serialises writers anyway) so concurrent
    # registrations cannot together take more places than there are.
    event = request.db.scalar(
        select(Event).where(Event.id == int(request.matchdict["id"])).with_for_update(of=Event.__table__)
    )
    if event is None:
        raise HTTPNotFound("no such event")
    return event


def _places_taken(request: Any, event: Event) -> int:
    # Counted afresh after the lock: what was read before it may be stale.
    return request.db.scalar(
        select(func.coalesce(func.sum(Registration.quantity), 0)).where(Registration.event_id == event.id)
    )


@api_view(
    "bar.event.registrations",
    request_method="POST",
    body=RegistrationIn,
    response=RegistrationOut,
    status=201,
    permission=MEMBER,
    responses={409: "Registered already, registration closed, or the event is full"},
)
def register(request: Any, body: RegistrationIn) -> Registration:
    """Register yourself (and guests) for an event while registration is open."""
    holder = require_own_holder(request)
    event = _locked_event(request)
    now = utcnow()
    if not event.registration_opens_at <= now < event.registration_closes_at:
        raise Conflict("registration for this event is not open")
    if request.db.scalar(
        select(Registration.id).where(Registration.event_id == event.id, Registration.holder_id == holder.id)
    ):
        raise Conflict("you are registered already")
    if event.max_participants is not None:
        left = event.max_participants - _places_taken(request, event)
        if body.quantity > left:
            raise Conflict(f"the event is full: {max(left, 0)} place(s) left")
    registration = Registration(event_id=event.id, holder_id=holder.id, **body.model_dump())
    request.db.add(registration)
    request.db.flush()
    return registration


registrations = Listing(
    key=Registration.id,
    ordering={"id": Registration.id, "created_at": Registration.created_at},
    default_ordering="created_at",
    filters={"status": Filter(Registration.status, RegistrationStatus)},
)


@api_view("bar.event.registrations", query=registrations, response=Page[RegistrationOut])
def list_registrations(request: Any, query: Any) -> dict[str, Any]:
    """Registrations for an event: all for bar personnel, your own otherwise."""
    event = get_or_404(request, Event, what="event")
    stmt = select(Registration).where(Registration.event_id == event.id)
    if not is_staff(request):
        stmt = stmt.join(Holder, Holder.id == Registration.holder_id).where(Holder.user_id == request.identity.user.id)
    return query.page(stmt)


@api_view(
    "bar.event.registration",
    request_method="DELETE",
    status=204,
    permission=MEMBER,
    responses={409: "Already charged, or registration closed"},
)
def unregister(request: Any) -> None:
    """Take back your registration while registration is open and you have not been charged."""
    holder = require_own_holder(request)
    event = _locked_event(request)
    registration = request.db.scalar(
        select(Registration).where(Registration.event_id == event.id, Registration.holder_id == holder.id)
    )
    if registration is None:
        raise HTTPNotFound("you are not registered for this event")
    if registration.status is RegistrationStatus.charged:
        raise Conflict("you have been charged for this event already")
    if utcnow() >= event.registration_closes_at:
        raise Conflict("registration for this event has closed")
    request.db.delete(registration)


@api_view("bar.event.charge", request_method="POST", response=ChargeQueued, status=202, permission=MANAGE)
def start_charge(request: Any) -> dict[str, str]:
    """Charge every registrant not yet charged, in the background (bar managers); safe to repeat.

    ``GET`` the same path for who paid and who could not.
    """
    event = get_or_404(request, Event, what="event")
    return {"task_id": request.task(charge_event)(event.id)}


@api_view("bar.event.charge", response=ChargeReport, permission=MANAGE)
def charge_report(request: Any) -> dict[str, Any]:
    """Who has paid for an event and who could not (bar managers)."""
    event = get_or_404(request, Event, what="event")
    counts = dict(
        request.db.execute(
            select(Registration.status, func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        ).all()
    )
    unpaid = request.db.scalars(
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
