"""Online top-ups through Mollie: money is recorded here before the outside world hears of it.

Starting a top-up takes three steps: the local record is committed first,
then Mollie is asked to open the payment, then Mollie's id is recorded. If
Mollie accepts but the last step fails, a local record still exists (with
the idempotency key Mollie was given); a webhook or return visit for a
payment whose id was never recorded is logged and credits nothing.

Mollie tells us only *that* a payment changed (a webhook with its id); we
always fetch the payment from Mollie to learn its status, so a forged
webhook credits nothing. Crediting is a conditional update of the payment
row (``credited_at IS NULL``) in the same transaction as the wallet credit,
and the ledger allows one entry per payment: however many webhooks and
return visits arrive, in whatever order, the wallet is credited once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPServiceUnavailable
from sqlalchemy import select, update

from pyramidion.api import get_or_404
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from ..models import Holder, LedgerKind, OnlinePayment
from ..mollie import CURRENCY, PaymentProviderError
from . import wallet
from .access import MEMBER, is_staff, require, require_own_holder

log = logging.getLogger(__name__)

CREATING = "creating"  # recorded here, Mollie not asked yet (or its answer not recorded)
NOT_CREATED = "not_created"  # Mollie refused or could not be reached: no payment to pay


def start_top_up(
    db: Any,
    caller: Identity,
    amount: Decimal,
    gateway: Any,
    transaction: Any,
    webhook_url: str,
    return_url: Callable[[str], str],
) -> OnlinePayment:
    """Top up the caller's own wallet online: the answer's ``checkout_url`` is where they pay.

    ``transaction`` is the request's transaction manager: the local record is
    committed before Mollie is called, and Mollie's answer is recorded in a
    transaction of its own. 503 when online top-ups are off or Mollie fails.
    """
    require(db, caller, MEMBER)
    holder = require_own_holder(db, caller)
    if not gateway.enabled:
        raise HTTPServiceUnavailable("online top-ups are not configured")
    payment = OnlinePayment(holder_id=holder.id, amount=amount, identifier=uuid.uuid4().hex, status=CREATING)
    db.add(payment)
    db.flush()
    payment_id, identifier, username = payment.id, payment.identifier, holder.user.username
    transaction.commit()
    transaction.begin()
    try:
        remote = gateway.create_payment(
            amount,
            description=f"Bar wallet top-up for {username}",
            redirect_url=return_url(identifier),
            webhook_url=webhook_url,
            metadata={"online_top_up": payment_id},
            idempotency_key=identifier,
        )
    except PaymentProviderError as exc:
        log.warning(
            "%s: online top-up %s not opened (kept as %s, never credited); the member is told to try again later",
            exc,
            payment_id,
            NOT_CREATED,
        )
        db.execute(update(OnlinePayment).where(OnlinePayment.id == payment_id).values(status=NOT_CREATED))
        transaction.commit()
        transaction.begin()
        raise HTTPServiceUnavailable("the payment provider is unavailable; try again later") from None
    payment = db.get(OnlinePayment, payment_id)
    payment.mollie_id = remote.id
    payment.status = remote.status
    payment.checkout_url = remote.checkout_url
    db.flush()
    return payment


def top_ups(db: Any, caller: Identity) -> Any:
    """Online top-ups opened at Mollie: the caller's own, or all for staff; for a listing to page."""
    stmt = select(OnlinePayment).where(OnlinePayment.mollie_id.is_not(None))
    if not is_staff(db, caller):
        stmt = stmt.join(Holder, Holder.id == OnlinePayment.holder_id).where(Holder.user_id == caller.user.id)
    return stmt


def get_top_up(db: Any, caller: Identity, payment_id: Any) -> OnlinePayment:
    """One online top-up: the caller's own, or any for staff."""
    payment = get_or_404(db, OnlinePayment, payment_id, what="online top-up")
    if not is_staff(db, caller) and db.get(Holder, payment.holder_id).user_id != caller.user.id:
        raise HTTPForbidden("this is not your top-up")
    return payment


def settle(db: Any, payment: OnlinePayment, gateway: Any) -> OnlinePayment:
    """Ask Mollie for the payment's status; credit the wallet if it is paid and not credited yet."""
    if payment.credited_at is not None:
        return payment
    if payment.mollie_id is None:
        log.warning("online top-up %s was never recorded as opened at Mollie: nothing credited", payment.id)
        return payment
    try:
        remote = gateway.get_payment(payment.mollie_id)
    except PaymentProviderError as exc:
        # Mollie sends a webhook again when it was not answered 200, and the member may come back.
        log.warning(
            "%s: payment %s not settled now; it is at Mollie's next webhook or the member's return",
            exc,
            payment.mollie_id,
        )
        raise HTTPServiceUnavailable("the payment provider is unavailable; try again later") from None
    payment.status = remote.status
    if not remote.paid:
        return payment
    if remote.currency != CURRENCY or remote.value != payment.amount:
        log.error(
            "Mollie payment %s paid %s %s, expected %s %s: not credited",
            payment.mollie_id,
            remote.currency,
            remote.value,
            CURRENCY,
            payment.amount,
        )
        return payment
    claimed = db.execute(
        update(OnlinePayment)
        .where(OnlinePayment.id == payment.id, OnlinePayment.credited_at.is_(None))
        .values(credited_at=utcnow(), status=remote.status)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        wallet.credit(
            db,
            payment.holder_id,
            payment.amount,
            LedgerKind.online_top_up,
            online_payment_id=payment.id,
            comment=f"Mollie {payment.mollie_id}",
        )
    db.refresh(payment)
    return payment


def notice(db: Any, mollie_id: str, gateway: Any) -> None:
    """Mollie's webhook: settle the payment with this id; an id never recorded is logged and credits nothing."""
    payment = db.scalar(select(OnlinePayment).where(OnlinePayment.mollie_id == mollie_id))
    if payment is None:
        log.warning("Mollie webhook for payment %r, which was never recorded here: nothing credited", mollie_id)
        return
    settle(db, payment, gateway)


def member_returns(db: Any, identifier: str, gateway: Any) -> OnlinePayment:
    """The member is back from Mollie's checkout: settle their top-up (its identifier is the secret)."""
    payment = db.scalar(select(OnlinePayment).where(OnlinePayment.identifier == identifier))
    if payment is None:
        log.warning("return from Mollie for top-up %r, which was never recorded here: nothing credited", identifier)
        raise HTTPNotFound("no such top-up")
    return settle(db, payment, gateway)
