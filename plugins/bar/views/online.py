"""Online top-ups through Mollie: start one, Mollie's webhook, the page members return to."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from pyramidion.api import Listing, Page, api_view
from pyramidion.request import Request

from ..models import OnlinePayment
from ..mollie import IMollieGateway
from ..schemas import OnlineTopUpIn, OnlineTopUpOut, WebhookIn
from ..services import online
from ..services.access import MEMBER
from ..settings import bar_settings


def _public_url(request: Request, route: str, **kw: Any) -> str:
    public = bar_settings(request.registry).mollie_public_url.rstrip("/")
    return public + request.route_path(route, **kw) if public else request.route_url(route, **kw)


@api_view(
    "bar.online_top_ups",
    request_method="POST",
    body=OnlineTopUpIn,
    response=OnlineTopUpOut,
    status=201,
    permission=MEMBER,
    responses={404: "You have no bar wallet", 503: "The payment provider is unavailable or not configured"},
)
def start_online_top_up(request: Request, body: OnlineTopUpIn) -> OnlinePayment:
    """Top up your own wallet online: pay at ``checkout_url``; the wallet is credited once Mollie reports it paid."""
    return online.start_top_up(
        request.db,
        request.identity,
        body.amount,
        request.find_service(IMollieGateway),
        request.tm,
        webhook_url=_public_url(request, "bar.mollie.webhook"),
        return_url=lambda identifier: _public_url(request, "bar.online_top_up.return", identifier=identifier),
    )


online_top_ups = Listing(
    key=OnlinePayment.id,
    ordering={"id": OnlinePayment.id, "created_at": OnlinePayment.created_at},
    default_ordering="-created_at",
)


@api_view("bar.online_top_ups", query=online_top_ups, response=Page[OnlineTopUpOut])
def list_online_top_ups(request: Request, query: Any) -> dict[str, Any]:
    """Online top-ups opened at Mollie, newest first: your own, or all for bar personnel."""
    return query.page(online.top_ups(request.db, request.identity))


@api_view("bar.online_top_up", response=OnlineTopUpOut)
def get_online_top_up(request: Request) -> OnlinePayment:
    """One online top-up: your own, or any for bar personnel."""
    return online.get_top_up(request.db, request.identity, request.matchdict["id"])


@api_view(
    "bar.mollie.webhook",
    request_method="POST",
    body=WebhookIn,
    form=True,
    permission=NO_PERMISSION_REQUIRED,
    content_type="text/plain",
    responses={503: "Mollie could not be asked; it will call again"},
)
def mollie_webhook(request: Request, body: WebhookIn) -> Response:
    """Mollie's notice that a payment changed (no login: the payment is fetched from Mollie to verify)."""
    online.notice(request.db, body.id, request.find_service(IMollieGateway))
    # Unknown ids get the same answer: the webhook tells no one what exists.
    return Response(status=200, content_type="text/plain", body=b"")


@api_view(
    "bar.online_top_up.return",
    response=OnlineTopUpOut,
    permission=NO_PERMISSION_REQUIRED,
    responses={503: "Mollie could not be asked; try again"},
)
def online_top_up_return(request: Request) -> OnlinePayment:
    """Where Mollie sends the member after paying: checks with Mollie and credits if paid (no login)."""
    return online.member_returns(request.db, request.matchdict["identifier"], request.find_service(IMollieGateway))
