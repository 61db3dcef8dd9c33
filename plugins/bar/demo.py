"""Sample bar data for ``pyramidion demo-data``: enough to sell at once.

Personnel (a barkeeper, a manager), members with wallets, NFC cards and
money on them (one with too little for a beer, to see a refusal), stock,
products in categories, and an open bar cycle. Every demo user's password
is ``<username>-password`` (:func:`pyramidion.demo.demo_password`). Safe to
run again: what exists (by name) is left alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pyramidion.demo import demo_user

from .models import (
    Card,
    Category,
    Cycle,
    Holder,
    LedgerKind,
    PaymentMethod,
    Personnel,
    Product,
    Report,
    ReportAction,
    Stock,
    StockUnit,
)
from .services import wallet

STOCK = [
    ("Beer keg", StockUnit.litres, Decimal("50")),
    ("Soft drinks", StockUnit.pieces, Decimal("48")),
    ("Crisps", StockUnit.pieces, Decimal("30")),
]
PRODUCTS = [
    # name, price, colour, stock, units per sale, category
    ("Beer", Decimal("2.20"), "#f5c542", "Beer keg", Decimal("0.25"), "Drinks"),
    ("Pitcher", Decimal("12.00"), "#e0a800", "Beer keg", Decimal("1.5"), "Drinks"),
    ("Cola", Decimal("1.80"), "#8b0000", "Soft drinks", Decimal("1"), "Drinks"),
    ("Crisps", Decimal("1.00"), "#ffd966", "Crisps", Decimal("1"), "Snacks"),
]
# username, first and last name, group, nickname at the bar (None: not personnel)
USERS = [
    ("barkeeper", "Bart", "Keeper", "bar-personnel", "Bart"),
    ("bar-manager", "Mona", "Manager", "bar-managers", "Mona"),
    ("lotte", "Lotte", "de Vries", "bar-members", None),
    ("sem", "Sem", "Jansen", "bar-members", None),
]
# username, opening balance (a cash top-up), NFC card id
WALLETS = [
    ("lotte", Decimal("25.00"), "04:A2:2B:1A"),
    ("sem", Decimal("1.50"), "04:7F:3C:09"),
    ("barkeeper", Decimal("10.00"), "04:11:22:33"),
]
OPENING_CASH = Decimal("150.00")


def _catalogue(db: Any) -> None:
    stocks = {s.name: s for s in db.scalars(select(Stock))}
    for name, unit, quantity in STOCK:
        if name not in stocks:
            stocks[name] = Stock(name=name, unit=unit, quantity=quantity)
            db.add(stocks[name])
    categories = {c.name: c for c in db.scalars(select(Category))}
    existing = set(db.scalars(select(Product.name)))
    for name, price, colour, stock, units, category in PRODUCTS:
        if category not in categories:
            categories[category] = Category(name=category)
            db.add(categories[category])
        if name not in existing:
            db.add(
                Product(
                    name=name,
                    price=price,
                    colour=colour,
                    stock=stocks[stock],
                    units=units,
                    categories=[categories[category]],
                )
            )
    db.flush()


def _people(db: Any, registry: Any) -> dict[str, Any]:
    users = {}
    for username, first, last, group, nickname in USERS:
        user = demo_user(db, registry, username, groups=[group], first_name=first, last_name=last)
        db.flush()
        users[username] = user
        if nickname is not None and db.scalar(select(Personnel.id).where(Personnel.user_id == user.id)) is None:
            db.add(Personnel(user_id=user.id, nickname=nickname, active=True))
    db.flush()
    return users


def _wallets(db: Any, users: dict[str, Any]) -> None:
    barkeeper = users["barkeeper"]
    for username, balance, card_id in WALLETS:
        user = users[username]
        if db.scalar(select(Holder.id).where(Holder.user_id == user.id)) is not None:
            continue
        holder = Holder(user_id=user.id)
        db.add(holder)
        db.flush()
        # Money arrives the only way it may: through the ledger.
        wallet.credit(
            db,
            holder.id,
            balance,
            LedgerKind.top_up,
            method=PaymentMethod.cash,
            comment="demo data",
            created_by_id=barkeeper.id,
        )
        if db.scalar(select(Card.id).where(Card.card_id == card_id)) is None:
            db.add(Card(card_id=card_id, holder_id=holder.id, name="demo card"))
    db.flush()


def _open_bar(db: Any, users: dict[str, Any]) -> None:
    if db.scalar(select(Cycle.id).where(Cycle.is_open.is_(True))) is not None:
        return
    barkeeper = db.scalar(select(Personnel).where(Personnel.user_id == users["barkeeper"].id))
    opening = Report(
        action=ReportAction.open,
        personnel_id=barkeeper.id,
        cash=OPENING_CASH,
        flow_meter_1=Decimal("0"),
        flow_meter_2=Decimal("0"),
        comment="demo data: the bar is open",
    )
    db.add(opening)
    db.flush()
    db.add(Cycle(opening_report_id=opening.id, is_open=True))
    db.flush()


def add_demo_data(db: Any, registry: Any) -> None:
    """Add what is missing, by name; safe to run again."""
    _catalogue(db)
    users = _people(db, registry)
    _wallets(db, users)
    _open_bar(db, users)
