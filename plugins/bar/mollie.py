"""Online top-ups through Mollie, with the official client.

Mollie tells us only *that* a payment changed (a webhook with its id); we
always fetch the payment from Mollie to learn its status, so a forged webhook
credits nothing. Crediting is a conditional update of the payment row
(``credited_at IS NULL``) in the same transaction as the wallet credit, and
the ledger allows one entry per payment: however many webhooks and return
visits arrive, and in whatever order, the wallet is credited once.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from mollie.api.client import Client
from mollie.api.error import Error as MollieError
from pyramid.httpexceptions import HTTPServiceUnavailable
from sqlalchemy import select, update

from pyramidion.api import money
from pyramidion.db import utcnow

from . import wallet
from .models import Holder, LedgerKind, OnlinePayment

log = logging.getLogger(__name__)

CURRENCY = "EUR"


class MollieGateway:
    """The Mollie client for the configured key and endpoint; ``None`` key means off."""

    def __init__(self, api_key: str, api_url: str, public_url: str) -> None:
        self.enabled = bool(api_key)
        self.public_url = public_url.rstrip("/")
        self.client = Client(api_endpoint=api_url, timeout=(2, 10))
        if api_key:
            self.client.set_api_key(api_key)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> MollieGateway:
        return cls(settings["bar.mollie.api_key"], settings["bar.mollie.api_url"], settings["bar.mollie.public_url"])

    def _url(self, request: Any, route: str, **kw: Any) -> str:
        if self.public_url:
            return self.public_url + request.route_path(route, **kw)
        return request.route_url(route, **kw)

    def create(self, request: Any, holder: Holder, amount: Decimal) -> OnlinePayment:
        """Record a top-up and open a Mollie payment for it; the checkout URL is where the member pays."""
        if not self.enabled:
            raise HTTPServiceUnavailable("online top-ups are not configured")
        payment = OnlinePayment(holder_id=holder.id, amount=amount, identifier=uuid.uuid4().hex)
        request.db.add(payment)
        request.db.flush()
        try:
            created = self.client.payments.create(
                {
                    "amount": {"currency": CURRENCY, "value": f"{amount:.2f}"},
                    "description": f"Bar wallet top-up for {holder.user.username}",
                    "redirectUrl": self._url(request, "bar.online_top_up.return", identifier=payment.identifier),
                    "webhookUrl": self._url(request, "bar.mollie.webhook"),
                    "metadata": {"online_top_up": payment.id},
                },
                idempotency_key=payment.identifier,
            )
        except MollieError as exc:
            log.warning("Mollie refused or could not be reached creating a payment: %s", exc)
            raise HTTPServiceUnavailable("the payment provider is unavailable; try again later") from None
        payment.mollie_id = created.id
        payment.status = created.status
        payment.checkout_url = created.checkout_url
        return payment

    def settle(self, request: Any, payment: OnlinePayment) -> OnlinePayment:
        """Ask Mollie for the payment's status; credit the wallet if it is paid and not credited yet."""
        if payment.mollie_id is None or payment.credited_at is not None:
            return payment
        try:
            remote = self.client.payments.get(payment.mollie_id)
        except MollieError as exc:
            log.warning("could not fetch Mollie payment %s: %s", payment.mollie_id, exc)
            raise HTTPServiceUnavailable("the payment provider is unavailable; try again later") from None
        payment.status = remote.status
        if not remote.is_paid():
            return payment
        paid = remote.amount or {}
        if paid.get("currency") != CURRENCY or money(paid.get("value", "0")) != payment.amount:
            log.error(
                "Mollie payment %s paid %s, expected %s %s: not credited",
                payment.mollie_id,
                paid,
                CURRENCY,
                payment.amount,
            )
            return payment
        now = utcnow()
        claimed = request.db.execute(
            update(OnlinePayment)
            .where(OnlinePayment.id == payment.id, OnlinePayment.credited_at.is_(None))
            .values(credited_at=now, status=remote.status)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            wallet.credit(
                request.db,
                payment.holder_id,
                payment.amount,
                LedgerKind.online_top_up,
                online_payment_id=payment.id,
                comment=f"Mollie {payment.mollie_id}",
            )
        request.db.refresh(payment)
        return payment


def payment_by_mollie_id(db: Any, mollie_id: str) -> OnlinePayment | None:
    return db.scalar(select(OnlinePayment).where(OnlinePayment.mollie_id == mollie_id))
