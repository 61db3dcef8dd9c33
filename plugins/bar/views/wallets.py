"""Wallets (holders), their ledger, top-ups and refunds at the bar, personnel, NFC cards."""

from __future__ import annotations

from typing import Any

from pyramidion.api import Filter, Listing, Page, api_view
from pyramidion.auth import User
from pyramidion.request import Request

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
from ..services import holders
from ..services.access import MANAGE, SELL, TOP_UP, require_own_holder, visible_holder
from ..settings import bar_settings

# -- wallets --------------------------------------------------------------------

holder_listing = Listing(
    key=Holder.id,
    ordering={"id": Holder.id, "username": User.username, "balance": Holder.balance},
    default_ordering="username",
    search=[User.username, User.email],
    filters={"member_id": Filter(Holder.member_id)},
)


@api_view("bar.holders", query=holder_listing, response=Page[HolderOut], permission=SELL)
def list_holders(request: Request, query: Any) -> dict[str, Any]:
    """Wallets, searchable by username and email (bar personnel)."""
    return query.page(holders.holders(request.db, request.identity))


@api_view(
    "bar.holders",
    request_method="POST",
    body=HolderIn,
    response=HolderOut,
    status=201,
    permission=MANAGE,
    responses={409: "The user has a wallet already"},
)
def create_holder(request: Request, body: HolderIn) -> Holder:
    """Open a wallet for a user (bar managers)."""
    return holders.open_wallet(request.db, request.identity, body)


@api_view("bar.holder", response=HolderOut)
def get_holder(request: Request) -> Holder:
    """One wallet: your own, or any for bar personnel."""
    return visible_holder(request.db, request.identity, request.matchdict["id"])


@api_view("bar.wallet", response=HolderOut, responses={404: "You have no bar wallet"})
def my_wallet(request: Request) -> Holder:
    """Your own wallet."""
    return require_own_holder(request.db, request.identity)


ledger = Listing(
    key=LedgerEntry.id,
    ordering={"id": LedgerEntry.id, "created_at": LedgerEntry.created_at, "amount": LedgerEntry.amount},
    default_ordering="-created_at",
    filters={"kind": Filter(LedgerEntry.kind, LedgerKind)},
)


@api_view("bar.holder.ledger", query=ledger, response=Page[LedgerOut])
def holder_ledger(request: Request, query: Any) -> dict[str, Any]:
    """Every movement of a wallet's money, newest first: your own, or any for bar personnel."""
    return query.page(holders.ledger_of(request.db, request.identity, request.matchdict["id"]))


@api_view("bar.holder.top_ups", request_method="POST", body=TopUpIn, response=LedgerOut, status=201, permission=TOP_UP)
def top_up(request: Request, body: TopUpIn) -> LedgerEntry:
    """Top up a wallet with cash or pin paid at the bar (active bar personnel)."""
    return holders.top_up(request.db, request.identity, request.matchdict["id"], body)


@api_view(
    "bar.holder.refunds",
    request_method="POST",
    body=TopUpIn,
    response=LedgerOut,
    status=201,
    permission=TOP_UP,
    responses={409: "The wallet holds too little"},
)
def refund(request: Request, body: TopUpIn) -> LedgerEntry:
    """Pay money out of a wallet in cash or by pin (active bar personnel); never below the minimum balance."""
    minimum = bar_settings(request.registry).wallet_minimum_balance
    return holders.refund(request.db, request.identity, request.matchdict["id"], body, minimum)


# -- personnel --------------------------------------------------------------------

personnel_listing = Listing(
    key=Personnel.id,
    ordering={"id": Personnel.id, "nickname": Personnel.nickname},
    default_ordering="nickname",
    search=[Personnel.nickname, User.username],
    filters={"active": Filter(Personnel.active, bool)},
)


@api_view("bar.personnel", query=personnel_listing, response=Page[PersonnelOut], permission=SELL)
def list_personnel(request: Request, query: Any) -> dict[str, Any]:
    """Bar personnel."""
    return query.page(holders.personnel(request.db, request.identity))


@api_view(
    "bar.personnel",
    request_method="POST",
    body=PersonnelIn,
    response=PersonnelOut,
    status=201,
    permission=MANAGE,
    responses={409: "The user is personnel already"},
)
def create_personnel(request: Request, body: PersonnelIn) -> Personnel:
    """Make a user bar personnel (bar managers)."""
    return holders.add_personnel(request.db, request.identity, body)


@api_view("bar.personnel.one", request_method="PATCH", body=PersonnelPatch, response=PersonnelOut, permission=MANAGE)
def update_personnel(request: Request, body: PersonnelPatch) -> Personnel:
    """Rename personnel or (de)activate them (bar managers)."""
    return holders.change_personnel(request.db, request.identity, request.matchdict["id"], body)


# -- cards -------------------------------------------------------------------------

card_listing = Listing(
    key=Card.id,
    ordering={"id": Card.id, "card_id": Card.card_id, "created_at": Card.created_at},
    default_ordering="id",
    search=[Card.card_id, Card.name],
    filters={"holder_id": Filter(Card.holder_id, int)},
)


@api_view("bar.cards", query=card_listing, response=Page[CardOut])
def list_cards(request: Request, query: Any) -> dict[str, Any]:
    """NFC cards: your own, or all for bar personnel."""
    return query.page(holders.cards(request.db, request.identity))


@api_view(
    "bar.cards",
    request_method="POST",
    body=CardIn,
    response=CardOut,
    status=201,
    permission=TOP_UP,
    responses={409: "The card is registered already"},
)
def create_card(request: Request, body: CardIn) -> Card:
    """Register an NFC card to a wallet (bar personnel)."""
    return holders.register_card(request.db, request.identity, body)


@api_view("bar.card", response=CardOut, permission=SELL)
def look_up_card(request: Request) -> Card:
    """The card with this NFC UID and its wallet: what the bar's reader asks (bar personnel)."""
    return holders.look_up_card(request.db, request.identity, request.matchdict["card_id"])


@api_view("bar.card", request_method="DELETE", status=204)
def delete_card(request: Request) -> None:
    """Unregister a card: your own, or any for bar personnel."""
    holders.unregister_card(request.db, request.identity, request.matchdict["card_id"])
