"""Wallets (holders), their ledger, top-ups and refunds at the bar, personnel, NFC cards."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from pyramidion.api import Conflict, Filter, Invalid, Listing, Page, api_view
from pyramidion.auth.models import User

from .. import wallet
from ..access import MANAGE, SELL, TOP_UP, acting_personnel, get_or_404, is_staff, require_own_holder, visible_holder
from ..models import Card, Holder, LedgerEntry, LedgerKind, Personnel
from ..schemas import (
    CardIn,
    CardOut,
    HolderIn,
    HolderOut,
    LedgerOut,
    PersonnelIn,
    PersonnelOut,
    PersonnelPatch,
    TopUpIn,
)

# -- wallets --------------------------------------------------------------------

holders = Listing(
    key=Holder.id,
    ordering={"id": Holder.id, "username": User.username, "balance": Holder.balance},
    default_ordering="username",
    search=[User.username, User.email],
    filters={"member_id": Filter(Holder.member_id)},
)


@api_view("bar.holders", query=holders, response=Page[HolderOut], permission=SELL)
def list_holders(request: Any, query: Any) -> dict[str, Any]:
    """Wallets, searchable by username and email (bar personnel)."""
    return query.page(select(Holder).join(Holder.user).options(contains_eager(Holder.user)))


@api_view(
    "bar.holders",
    request_method="POST",
    body=HolderIn,
    response=HolderOut,
    status=201,
    permission=MANAGE,
    responses={409: "The user has a wallet already"},
)
def create_holder(request: Any, body: HolderIn) -> Holder:
    """Open a wallet for a user (bar managers)."""
    if request.db.get(User, body.user_id) is None:
        raise Invalid.field("user_id", "no such user")
    if request.db.scalar(select(Holder.id).where(Holder.user_id == body.user_id)) is not None:
        raise Conflict("this user has a wallet already", [{"field": "user_id", "message": "has a wallet already"}])
    holder = Holder(user_id=body.user_id)
    request.db.add(holder)
    request.db.flush()
    return holder


@api_view("bar.holder", response=HolderOut)
def get_holder(request: Any) -> Holder:
    """One wallet: your own, or any for bar personnel."""
    return visible_holder(request, int(request.matchdict["id"]))


@api_view("bar.wallet", response=HolderOut, responses={404: "You have no bar wallet"})
def my_wallet(request: Any) -> Holder:
    """Your own wallet."""
    return require_own_holder(request)


ledger = Listing(
    key=LedgerEntry.id,
    ordering={"id": LedgerEntry.id, "created_at": LedgerEntry.created_at, "amount": LedgerEntry.amount},
    default_ordering="-created_at",
    filters={"kind": Filter(LedgerEntry.kind, LedgerKind)},
)


@api_view("bar.holder.ledger", query=ledger, response=Page[LedgerOut])
def holder_ledger(request: Any, query: Any) -> dict[str, Any]:
    """Every movement of a wallet's money, newest first: your own, or any for bar personnel."""
    holder = visible_holder(request, int(request.matchdict["id"]))
    return query.page(select(LedgerEntry).where(LedgerEntry.holder_id == holder.id))


def _counter_move(request: Any, body: TopUpIn, kind: LedgerKind) -> LedgerEntry:
    personnel = acting_personnel(request)
    holder = get_or_404(request, Holder, what="wallet")
    entry = dict(method=body.method, comment=body.comment, created_by_id=personnel.user_id)
    if kind is LedgerKind.top_up:
        row = wallet.credit(request.db, holder.id, body.amount, kind, **entry)
    else:
        row = wallet.debit(request, holder.id, body.amount, kind, **entry)
    request.db.flush()
    return row


@api_view("bar.holder.top_ups", request_method="POST", body=TopUpIn, response=LedgerOut, status=201, permission=TOP_UP)
def top_up(request: Any, body: TopUpIn) -> LedgerEntry:
    """Top up a wallet with cash or pin paid at the bar (active bar personnel)."""
    return _counter_move(request, body, LedgerKind.top_up)


@api_view(
    "bar.holder.refunds",
    request_method="POST",
    body=TopUpIn,
    response=LedgerOut,
    status=201,
    permission=TOP_UP,
    responses={409: "The wallet holds too little"},
)
def refund(request: Any, body: TopUpIn) -> LedgerEntry:
    """Pay money out of a wallet in cash or by pin (active bar personnel); never below the minimum balance."""
    return _counter_move(request, body, LedgerKind.refund)


# -- personnel --------------------------------------------------------------------

personnel_listing = Listing(
    key=Personnel.id,
    ordering={"id": Personnel.id, "nickname": Personnel.nickname},
    default_ordering="nickname",
    search=[Personnel.nickname, User.username],
    filters={"active": Filter(Personnel.active, bool)},
)


@api_view("bar.personnel", query=personnel_listing, response=Page[PersonnelOut], permission=SELL)
def list_personnel(request: Any, query: Any) -> dict[str, Any]:
    """Bar personnel."""
    return query.page(select(Personnel).join(Personnel.user).options(contains_eager(Personnel.user)))


@api_view(
    "bar.personnel",
    request_method="POST",
    body=PersonnelIn,
    response=PersonnelOut,
    status=201,
    permission=MANAGE,
    responses={409: "The user is personnel already"},
)
def create_personnel(request: Any, body: PersonnelIn) -> Personnel:
    """Make a user bar personnel (bar managers)."""
    if request.db.get(User, body.user_id) is None:
        raise Invalid.field("user_id", "no such user")
    if request.db.scalar(select(Personnel.id).where(Personnel.user_id == body.user_id)) is not None:
        raise Conflict("this user is bar personnel already", [{"field": "user_id", "message": "is personnel already"}])
    personnel = Personnel(**body.model_dump())
    request.db.add(personnel)
    request.db.flush()
    return personnel


@api_view("bar.personnel.one", request_method="PATCH", body=PersonnelPatch, response=PersonnelOut, permission=MANAGE)
def update_personnel(request: Any, body: PersonnelPatch) -> Personnel:
    """Rename personnel or (de)activate them (bar managers)."""
    personnel = get_or_404(request, Personnel)
    for field, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(personnel, field, value)
    request.db.flush()
    return personnel


# -- cards -------------------------------------------------------------------------

cards = Listing(
    key=Card.id,
    ordering={"id": Card.id, "card_id": Card.card_id, "created_at": Card.created_at},
    default_ordering="id",
    search=[Card.card_id, Card.name],
    filters={"holder_id": Filter(Card.holder_id, int)},
)


@api_view("bar.cards", query=cards, response=Page[CardOut])
def list_cards(request: Any, query: Any) -> dict[str, Any]:
    """NFC cards: your own, or all for bar personnel."""
    stmt = select(Card)
    if not is_staff(request):
        stmt = stmt.join(Holder, Holder.id == Card.holder_id).where(Holder.user_id == request.identity.user.id)
    return query.page(stmt)


@api_view(
    "bar.cards",
    request_method="POST",
    body=CardIn,
    response=CardOut,
    status=201,
    permission=TOP_UP,
    responses={409: "The card is registered already"},
)
def create_card(request: Any, body: CardIn) -> Card:
    """Register an NFC card to a wallet (bar personnel)."""
    if request.db.get(Holder, body.holder_id) is None:
        raise Invalid.field("holder_id", "no such wallet")
    if request.db.scalar(select(Card.id).where(Card.card_id == body.card_id)) is not None:
        raise Conflict("this card is registered already", [{"field": "card_id", "message": "registered already"}])
    card = Card(**body.model_dump())
    request.db.add(card)
    request.db.flush()
    return card


def _card(request: Any) -> Card:
    card = request.db.scalar(select(Card).where(Card.card_id == request.matchdict["card_id"]))
    if card is None:
        raise HTTPNotFound("no such card")
    return card


@api_view("bar.card", response=CardOut, permission=SELL)
def look_up_card(request: Any) -> Card:
    """The card with this NFC UID and its wallet: what the bar's reader asks (bar personnel)."""
    return _card(request)


@api_view("bar.card", request_method="DELETE", status=204)
def delete_card(request: Any) -> None:
    """Unregister a card: your own, or any for bar personnel."""
    card = _card(request)
    if card.holder.user_id != request.identity.user.id and not request.has_permission(TOP_UP):
        raise HTTPForbidden("this is not your card")
    request.db.delete(card)
