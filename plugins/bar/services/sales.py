"""Selling: purchases paid from a wallet, in cash or by pin."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from pyramidion.api import Invalid
from pyramidion.auth import Identity

from ..models import Holder, LedgerKind, PaymentMethod, Product, Purchase, PurchaseLine, Stock
from ..schemas import LineIn, PurchaseIn
from . import wallet
from .access import SELL, acting_personnel, is_staff, require


def _products(db: Any, lines: list[LineIn]) -> dict[int, Product]:
    wanted = {line.product_id for line in lines}
    found = {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(wanted), Product.active.is_(True)))}
    problems = [
        {"field": f"lines.{index}.product_id", "location": "body", "message": "no such product on sale"}
        for index, line in enumerate(lines)
        if line.product_id not in found
    ]
    if problems:
        raise Invalid("unknown or inactive product(s)", problems)
    return found


def _take_stock(db: Any, products: dict[int, Product], lines: list[LineIn]) -> None:
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        product = products[line.product_id]
        if product.stock_id is not None:
            taken[product.stock_id] += product.units * line.quantity
    # In id order, so that concurrent sales lock stock rows in one order and never deadlock.
    for stock_id in sorted(taken):
        stocks = Stock.__table__  # as a table: cheaper than the ORM's bulk update, and no object to synchronise
        db.execute(update(stocks).where(stocks.c.id == stock_id).values(quantity=stocks.c.quantity - taken[stock_id]))


def sell(db: Any, caller: Identity, order: PurchaseIn, minimum: Decimal) -> Purchase:
    """Sell products; the caller (active bar personnel) is the seller.

    Paid with exactly one method: ``wallet`` (debited at once, never below
    ``minimum``; :class:`~.wallet.InsufficientBalance`, a 409, otherwise),
    ``cash`` or ``pin``. Prices are fixed at this moment; sold quantities come
    off stock. A refused sale changes nothing (the caller's transaction rolls back).

    A wallet sale's first write is the debit, the conditional UPDATE that is
    also the look for the wallet (only a refused one asks whether the wallet
    exists); the purchase, its lines and the ledger row are then inserted in
    one flush, with the products already loaded: no statement reads back what
    this sale knows.
    """
    require(db, caller, SELL)
    seller = acting_personnel(db, caller)
    products = _products(db, order.lines)
    paid_from_wallet = order.payment_method is PaymentMethod.wallet
    if paid_from_wallet and order.holder_id is None:
        raise Invalid.field("holder_id", "is required to pay from a wallet")
    purchase = Purchase(
        holder_id=order.holder_id,
        seller_id=seller.id,
        payment_method=order.payment_method,
        total=sum((products[line.product_id].price * line.quantity for line in order.lines), Decimal("0.00")),
        lines=[
            PurchaseLine(
                product=products[line.product_id],
                quantity=line.quantity,
                unit_price=products[line.product_id].price,
            )
            for line in order.lines
        ],
    )
    entry = None
    if paid_from_wallet and purchase.total > 0:
        entry = wallet.try_debit(
            db,
            minimum,
            order.holder_id,
            purchase.total,
            LedgerKind.purchase,
            purchase=purchase,
            created_by_id=seller.user_id,
        )
        if entry is None:
            _require_wallet(db, order.holder_id)
            raise wallet.InsufficientBalance(order.holder_id, purchase.total)
    elif order.holder_id is not None:
        _require_wallet(db, order.holder_id)
    db.add(purchase)
    set_committed_value(purchase, "wallet_entry", entry)  # known already: spares a query
    db.flush()
    _take_stock(db, products, order.lines)
    return purchase


def _require_wallet(db: Any, holder_id: int) -> None:
    if db.scalar(select(Holder.id).where(Holder.id == holder_id)) is None:
        raise Invalid.field("holder_id", "no such wallet")


def _with_details(stmt: Any) -> Any:
    return stmt.options(selectinload(Purchase.lines), selectinload(Purchase.wallet_entry))


def purchases(db: Any, caller: Identity) -> Any:
    """Purchases: the caller's own, or all for staff; for a listing to page."""
    stmt = _with_details(select(Purchase))
    if not is_staff(db, caller):
        stmt = stmt.join(Holder, Holder.id == Purchase.holder_id).where(Holder.user_id == caller.user.id)
    return stmt


def get_purchase(db: Any, caller: Identity, purchase_id: Any) -> Purchase:
    """One purchase: the caller's own, or any for staff."""
    try:
        key = int(purchase_id)
    except (TypeError, ValueError):
        key = None
    purchase = db.scalar(_with_details(select(Purchase)).where(Purchase.id == key)) if key is not None else None
    if purchase is None:
        raise HTTPNotFound("no such purchase")
    if not is_staff(db, caller):
        holder = db.get(Holder, purchase.holder_id) if purchase.holder_id is not None else None
        if holder is None or holder.user_id != caller.user.id:
            raise HTTPForbidden("this is not your purchase")
    return purchase
