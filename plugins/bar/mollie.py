"""The Mollie gateway: opening a payment at Mollie and asking for its status, with the official client.

A service of the app (pyramid_services): views, console pages and tests find
it with ``request.find_service(IMollieGateway)``, and a test may register
another. It only talks to Mollie; what a payment means for a wallet is
decided in :mod:`pyramidion_bar.services.online`.
"""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

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
    """The Mollie client for the configured key and endpoint; an empty key means online top-ups are off.

    The client is built, and the library imported, at the first call: most
    web processes never talk to Mollie, and the library costs each ~10 MiB.
    """

    def __init__(self, api_key: str, api_url: str) -> None:
        self.enabled = bool(api_key)
        self.api_key = api_key
        self.api_url = api_url
        self._lock = threading.Lock()
        self._client: Any = None

    @property
    def client(self) -> Any:
        with self._lock:  # one client for every thread
            if self._client is None:
                from mollie.api.client import Client

                self._client = Client(api_endpoint=self.api_url, timeout=(2, 10))
                if self.api_key:
                    self._client.set_api_key(self.api_key)
            return self._client

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
        from mollie.api.error import Error as MollieError

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
            raise self._failure(exc) from exc
        return RemotePayment(id=created.id, status=created.status, checkout_url=created.checkout_url)

    def get_payment(self, mollie_id: str) -> RemotePayment:
        """The payment as Mollie has it now."""
        from mollie.api.error import Error as MollieError

        try:
            remote = self.client.payments.get(mollie_id)
        except MollieError as exc:
            raise self._failure(exc) from exc
        amount = remote.amount or {}
        try:
            value = Decimal(str(amount.get("value")))
        except InvalidOperation:
            value = None
        return RemotePayment(
            id=remote.id, status=remote.status, paid=remote.is_paid(), currency=amount.get("currency"), value=value
        )

    def _failure(self, exc: Exception) -> PaymentProviderError:
        """What went wrong, in one short sentence (not urllib3's retry story)."""
        from mollie.api.error import RequestError, ResponseError

        where = urlsplit(self.api_url).netloc or self.api_url
        if isinstance(exc, ResponseError):
            return PaymentProviderError(f"Mollie at {where} answered {exc.status}: {exc}")
        if isinstance(exc, RequestError) and "Unable to communicate" in str(exc):
            return PaymentProviderError(f"Mollie at {where} is not reachable")
        return PaymentProviderError(f"Mollie at {where}: {exc}")
