"""Events ("Happen"): managing them, registering for them, charging the registrants."""

from __future__ import annotations

from typing import Any

from pyramidion.api import Filter, Listing, Page, Timestamp, api_view
from pyramidion.request import Request

from ..models import Event, Registration, RegistrationStatus
from ..schemas import ChargeQueued, ChargeReport, EventIn, EventOut, RegistrationIn, RegistrationOut
from ..services import events
from ..services.access import MANAGE, MEMBER
from ..tasks import charge_event

event_listing = Listing(
    key=Event.id,
    ordering={"id": Event.id, "starts_at": Event.starts_at, "title": Event.title},
    default_ordering="-starts_at",
    search=[Event.title, Event.description],
    filters={"starts_after": Filter(Event.starts_at, Timestamp, "gte")},
)


@api_view("bar.events", query=event_listing, response=Page[EventOut])
def list_events(request: Request, query: Any) -> dict[str, Any]:
    """Events, latest first, with the places taken."""
    return query.page(events.events())


@api_view("bar.events", request_method="POST", body=EventIn, response=EventOut, status=201, permission=MANAGE)
def create_event(request: Request, body: EventIn) -> Event:
    """Announce an event (bar managers)."""
    return events.announce_event(request.db, request.identity, body)


@api_view("bar.event", response=EventOut)
def get_event(request: Request) -> Event:
    """One event."""
    return events.get_event(request.db, request.matchdict["id"])


@api_view("bar.event", request_method="PUT", body=EventIn, response=EventOut, permission=MANAGE)
def replace_event(request: Request, body: EventIn) -> Event:
    """Change an event (bar managers); registrants charged already keep what they paid."""
    return events.replace_event(request.db, request.identity, request.matchdict["id"], body)


@api_view(
    "bar.event",
    request_method="DELETE",
    status=204,
    permission=MANAGE,
    responses={409: "Registrants were charged already"},
)
def delete_event(request: Request) -> None:
    """Cancel an event nobody has paid for yet (bar managers)."""
    events.cancel_event(request.db, request.identity, request.matchdict["id"])


@api_view(
    "bar.event.registrations",
    request_method="POST",
    body=RegistrationIn,
    response=RegistrationOut,
    status=201,
    permission=MEMBER,
    responses={409: "Registered already, registration closed, or the event is full"},
)
def register(request: Request, body: RegistrationIn) -> Registration:
    """Register yourself (and guests) for an event while registration is open."""
    return events.register(request.db, request.identity, request.matchdict["id"], body)


registration_listing = Listing(
    key=Registration.id,
    ordering={"id": Registration.id, "created_at": Registration.created_at},
    default_ordering="created_at",
    filters={"status": Filter(Registration.status, RegistrationStatus)},
)


@api_view("bar.event.registrations", query=registration_listing, response=Page[RegistrationOut])
def list_registrations(request: Request, query: Any) -> dict[str, Any]:
    """Registrations for an event: all for bar personnel, your own otherwise."""
    return query.page(events.registrations(request.db, request.identity, request.matchdict["id"]))


@api_view(
    "bar.event.registration",
    request_method="DELETE",
    status=204,
    permission=MEMBER,
    responses={409: "Already charged, or registration closed"},
)
def unregister(request: Request) -> None:
    """Take back your registration while registration is open and you have not been charged."""
    events.unregister(request.db, request.identity, request.matchdict["id"])


@api_view("bar.event.charge", request_method="POST", response=ChargeQueued, status=202, permission=MANAGE)
def start_charge(request: Request) -> dict[str, str]:
    """Charge every registrant not yet charged, in the background (bar managers); safe to repeat.

    ``GET`` the same path for who paid and who could not.
    """
    event = events.may_charge(request.db, request.identity, request.matchdict["id"])
    return {"task_id": request.task(charge_event)(event.id)}


@api_view("bar.event.charge", response=ChargeReport, permission=MANAGE)
def charge_report(request: Request) -> dict[str, Any]:
    """Who has paid for an event and who could not (bar managers)."""
    return events.charge_report(request.db, request.identity, request.matchdict["id"])
