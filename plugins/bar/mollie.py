"""The Mollie gateway: opening a payment at Mollie and asking for its status, with the official client.

A service of the app (pyramid_services): views, console pages and tests find
it with ``request.find_service(IMollieGateway)``, and a test may register
another. It only talks to Mollie; what a payment means for a wallet is
decided in :mod:`pyramidion_bar.services.online`.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from typing import Any

from mollie.api.client import Client
from mollie.api.error import Error as MollieError
from zope.interface import Interface

CURRENCY = "EUR"


class IMollieGateway(Interface):
    """Marker of the Mollie gateway service."""


class PaymentProviderError(Exception):
    """Mollie refused the request or could not be reached."""


@dataclasses.dataclass(frozen=True)
class RemotePayment:
    """What Mollie says of one payment."""

    id: str
    status: str
    checkout_url: str | None = None
    paid: bool = False
    currency: str | None = None
    value: Decimal | None = None


class MollieGateway:
    """The Mollie client for the configured key and endpoint; an empty key means online top-ups are off."""

    def __init__(self, api_key: str, api_url: str) -> None:
        self.enabled = bool(api_key)
        self.client = Client(api_endpoint=api_url, timeout=(2, 10))
        if api_key:
            self.client.set_api_key(api_key)

    @classmethod
    def from_settings(cls, settings: Any) -> MollieGateway:
        """The gateway for the ``bar.mollie.*`` settings (:class:`~pyramidion_bar.settings.BarSettings`)."""
        return cls(settings.mollie_api_key, settings.mollie_api_url)

    def create_payment(
        self,
        amount: Decimal,
        description: str,
        redirect_url: str,
        webhook_url: str,
        metadata: dict[str, Any],
        idempotency_key: str,
    ) -> RemotePayment:
        """Open a payment at Mollie; the same ``idempotency_key`` never opens two."""
        try:
            created = self.client.payments.create(
                {
                    "amount": {"currency": CURRENCY, "value": f"{amount:.2f}"},
                    "description": description,
                    "redirectUrl": redirect_url,
                    "webhookUrl": webhook_url,
                    "metadata": metadata,
                },
                idempotency_key=idempotency_key,
            )
        except MollieError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return RemotePayment(id=created.id, status=created.status, checkout_url=created.checkout_url)

    def get_payment(self, mollie_id: str) -> RemotePayment:
        """The payment as Mollie has it now."""
        try:
            remote = self.client.payments.get(mollie_id)
        except MollieError as exc:
            raise PaymentProviderError(str(exc)) from exc
        amount = remote.amount or {}
        try:
            value = Decimal(str(amount.get("value")))
        except InvalidOperation:
            value = None
        return RemotePayment(
            id=remote.id, status=remote.status, paid=remote.is_paid(), currency=amount.get("currency"), value=value
        )
