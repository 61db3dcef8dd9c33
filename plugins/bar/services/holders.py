"""Wallets (holders) and their ledger, top-ups and refunds at the bar, personnel, NFC cards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from pyramidion.api import Conflict, Invalid, get_or_404
from pyramidion.auth import Identity, User

from ..models import Card, Holder, LedgerEntry, LedgerKind, Personnel
from ..schemas import CardIn, PersonnelIn, PersonnelPatch, TopUpIn
from . import wallet
from .access import MANAGE, SELL, TOP_UP, acting_personnel, is_staff, require, visible_holder

# -- wallets ----------------------------------------------------------------------


def holders(db: Any, caller: Identity) -> Any:
    """Every wallet with its user (bar personnel), for a listing to page."""
    require(db, caller, SELL)
    return select(Holder).join(Holder.user).options(contains_eager(Holder.user))


def find_holders(db: Any, caller: Identity, text: str, limit: int = 10) -> list[Holder]:
    """Wallets whose owner's name, username or email contains ``text``, or whose NFC card id is ``text`` (the till)."""
    require(db, caller, SELL)
    text = text.strip()
    if not text:
        return []
    pattern = f"%{text}%"
    by_card = select(Card.holder_id).where(Card.card_id == text)
    return list(
        db.scalars(
            holders(db, caller)
            .where(
                or_(
                    User.username.ilike(pattern),
                    User.email.ilike(pattern),
                    (User.first_name + " " + User.last_name).ilike(pattern),
                    Holder.id.in_(by_card),
                )
            )
            .order_by(User.username)
            .limit(limit)
        )
    )


def open_wallet(db: Any, caller: Identity, body: Any) -> Holder:
    """Open a wallet for a user (bar managers); 409 if they have one."""
    require(db, caller, MANAGE)
    if db.get(User, body.user_id) is None:
        raise Invalid.field("user_id", "no such user")
    if db.scalar(select(Holder.id).where(Holder.user_id == body.user_id)) is not None:
        raise Conflict("this user has a wallet already", [{"field": "user_id", "message": "has a wallet already"}])
    holder = Holder(user_id=body.user_id)
    db.add(holder)
    db.flush()
    return holder


def ledger_of(db: Any, caller: Identity, holder_id: Any) -> Any:
    """Every movement of a wallet's money (its owner, or staff), for a listing to page."""
    holder = visible_holder(db, caller, holder_id)
    return select(LedgerEntry).where(LedgerEntry.holder_id == holder.id)


def top_up(db: Any, caller: Identity, holder_id: Any, body: TopUpIn) -> LedgerEntry:
    """Credit a wallet with cash or pin paid at the bar (active personnel with ``bar.top_up``)."""
    require(db, caller, TOP_UP)
    personnel = acting_personnel(db, caller)
    holder = get_or_404(db, Holder, holder_id, what="wallet")
    row = wallet.credit(
        db,
        holder.id,
        body.amount,
        LedgerKind.top_up,
        method=body.method,
        comment=body.comment,
        created_by_id=personnel.user_id,
    )
    db.flush()
    return row


def refund(db: Any, caller: Identity, holder_id: Any, body: TopUpIn, minimum: Decimal) -> LedgerEntry:
    """Pay money out of a wallet in cash or by pin; never below ``minimum`` (409)."""
    require(db, caller, TOP_UP)
    personnel = acting_personnel(db, caller)
    holder = get_or_404(db, Holder, holder_id, what="wallet")
    row = wallet.debit(
        db,
        minimum,
        holder.id,
        body.amount,
        LedgerKind.refund,
        method=body.method,
        comment=body.comment,
        created_by_id=personnel.user_id,
    )
    db.flush()
    return row


# -- personnel ----------------------------------------------------------------------


def personnel(db: Any, caller: Identity) -> Any:
    """Bar personnel with their users, for a listing to page."""
    require(db, caller, SELL)
    return select(Personnel).join(Personnel.user).options(contains_eager(Personnel.user))


def add_personnel(db: Any, caller: Identity, body: PersonnelIn) -> Personnel:
    """Make a user bar personnel (bar managers); 409 if they are already."""
    require(db, caller, MANAGE)
    if db.get(User, body.user_id) is None:
        raise Invalid.field("user_id", "no such user")
    if db.scalar(select(Personnel.id).where(Personnel.user_id == body.user_id)) is not None:
        raise Conflict("this user is bar personnel already", [{"field": "user_id", "message": "is personnel already"}])
    member = Personnel(**body.model_dump())
    db.add(member)
    db.flush()
    return member


def change_personnel(db: Any, caller: Identity, personnel_id: Any, body: PersonnelPatch) -> Personnel:
    """Rename personnel or (de)activate them (bar managers)."""
    require(db, caller, MANAGE)
    member = get_or_404(db, Personnel, personnel_id)
    for field, value in body.changes().items():
        setattr(member, field, value)
    db.flush()
    return member


# -- cards -------------------------------------------------------------------------


def cards(db: Any, caller: Identity) -> Any:
    """NFC cards: the caller's own, or all for staff; for a listing to page."""
    stmt = select(Card)
    if not is_staff(db, caller):
        stmt = stmt.join(Holder, Holder.id == Card.holder_id).where(Holder.user_id == caller.user.id)
    return stmt


def register_card(db: Any, caller: Identity, body: CardIn) -> Card:
    """Register an NFC card to a wallet (``bar.top_up``); 409 if the card is registered already."""
    require(db, caller, TOP_UP)
    if db.get(Holder, body.holder_id) is None:
        raise Invalid.field("holder_id", "no such wallet")
    if db.scalar(select(Card.id).where(Card.card_id == body.card_id)) is not None:
        raise Conflict("this card is registered already", [{"field": "card_id", "message": "registered already"}])
    card = Card(**body.model_dump())
    db.add(card)
    db.flush()
    return card


def _card(db: Any, card_id: str) -> Card:
    card = db.scalar(select(Card).where(Card.card_id == card_id))
    if card is None:
        raise HTTPNotFound("no such card")
    return card


def look_up_card(db: Any, caller: Identity, card_id: str) -> Card:
    """The card with this NFC UID and its wallet: what the bar's reader asks (bar personnel)."""
    require(db, caller, SELL)
    return _card(db, card_id)


def unregister_card(db: Any, caller: Identity, card_id: str) -> None:
    """Unregister a card: your own, or any with ``bar.top_up``."""
    card = _card(db, card_id)
    if card.holder.user_id != caller.user.id and not caller.holds(db, TOP_UP):
        raise HTTPForbidden("this is not your card")
    db.delete(card)
