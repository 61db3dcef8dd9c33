"""Online top-ups through Mollie: start one, Mollie's webhook, the page members return to."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from pyramidion.api import Listing, Page, api_view

from ..access import MEMBER, get_or_404, is_staff, require_own_holder
from ..models import Holder, OnlinePayment
from ..mollie import payment_by_mollie_id
from ..schemas import OnlineTopUpIn, OnlineTopUpOut, WebhookIn


@api_view(
    "bar.online_top_ups",
    request_method="POST",
    body=OnlineTopUpIn,
    response=OnlineTopUpOut,
    status=201,
    permission=MEMBER,
    responses={503: "The payment provider is unavailable or not configured"},
)
def start_online_top_up(request: Any, body: OnlineTopUpIn) -> OnlinePayment:
    """Top up your own wallet online: pay at ``checkout_url``; the wallet is credited once Mollie reports it paid."""
    holder = require_own_holder(request)
    return request.registry.bar_mollie.create(request, holder, body.amount)


online_top_ups = Listing(
    key=OnlinePayment.id,
    ordering={"id": OnlinePayment.id, "created_at": OnlinePayment.created_at},
    default_ordering="-created_at",
)


@api_view("bar.online_top_ups", query=online_top_ups, response=Page[OnlineTopUpOut])
def list_online_top_ups(request: Any, query: Any) -> dict[str, Any]:
    """Online top-ups, newest first: your own, or all for bar personnel."""
    stmt = select(OnlinePayment)
    if not is_staff(request):
        stmt = stmt.join(Holder, Holder.id == OnlinePayment.holder_id).where(Holder.user_id == request.identity.user.id)
    return query.page(stmt)


@api_view("bar.online_top_up", response=OnlineTopUpOut)
def get_online_top_up(request: Any) -> OnlinePayment:
    """One online top-up: your own, or any for bar personnel."""
    payment = get_or_404(request, OnlinePayment, what="online top-up")
    if not is_staff(request) and request.db.get(Holder, payment.holder_id).user_id != request.identity.user.id:
        raise HTTPForbidden("this is not your top-up")
    return payment


@api_view(
    "bar.mollie.webhook",
    request_method="POST",
    body=WebhookIn,
    form=True,
    permission=NO_PERMISSION_REQUIRED,
    content_type="text/plain",
    responses={503: "Mollie could not be asked; it will call again"},
)
def mollie_webhook(request: Any, body: WebhookIn) -> Response:
    """Mollie's notice that a payment changed (no login: the payment is fetched from Mollie to verify)."""
    payment = payment_by_mollie_id(request.db, body.id)
    if payment is not None:
        request.registry.bar_mollie.settle(request, payment)
    # Unknown ids get the same answer: the webhook tells no one what exists.
    return Response(status=200, content_type="text/plain", body=b"")


@api_view(
    "bar.online_top_up.return",
    response=OnlineTopUpOut,
    permission=NO_PERMISSION_REQUIRED,
    responses={503: "Mollie could not be asked; try again"},
)
def online_top_up_return(request: Any) -> OnlinePayment:
    """Where Mollie sends the member after paying: checks with Mollie and credits if paid (no login)."""
    identifier = request.matchdict["identifier"]
    payment = request.db.scalar(select(OnlinePayment).where(OnlinePayment.identifier == identifier))
    if payment is None:
        raise HTTPNotFound("no such top-up")
    return request.registry.bar_mollie.settle(request, payment)
