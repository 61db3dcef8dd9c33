"""Selling: purchases paid from a wallet, in cash or by pin."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import selectinload

from pyramidion.api import Invalid
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from ..models import QUANTITY, Holder, PaymentMethod, Personnel, Product, Purchase, PurchaseLine, Stock
from ..schemas import LineIn, PurchaseIn, PurchaseOut
from . import wallet
from .access import SELL, acting_personnel, is_staff, require

PERSONNEL = Personnel.__table__
PRODUCTS = Product.__table__
LINES = PurchaseLine.__table__
STOCKS = Stock.__table__

# A sale runs table statements built once: the ORM's unit of work cost as
# much as the statements, and building one and deriving its cache key about
# as much as running it.
# The ordered products on sale, each row with the caller's id as active
# personnel (NULL if they are not): the seller, read with the products.
_ON_SALE = select(
    PRODUCTS.c.id,
    PRODUCTS.c.name,
    PRODUCTS.c.price,
    PRODUCTS.c.units,
    PRODUCTS.c.stock_id,
    select(PERSONNEL.c.id)
    .where(PERSONNEL.c.user_id == bindparam("user_id"), PERSONNEL.c.active.is_(True))
    .scalar_subquery()
    .label("seller_id"),
).where(PRODUCTS.c.id.in_(bindparam("product_ids", expanding=True)), PRODUCTS.c.active.is_(True))
_NEW_LINES = insert(LINES)
_TAKE_STOCK = (
    update(STOCKS)
    .where(STOCKS.c.id == bindparam("stock_id"))
    .values(quantity=STOCKS.c.quantity - bindparam("taken", type_=QUANTITY))
)


def _products(rows: list[Any], lines: list[LineIn]) -> dict[int, Any]:
    found = {row.id: row for row in rows}
    problems = [
        {"field": f"lines.{index}.product_id", "location": "body", "message": "no such product on sale"}
        for index, line in enumerate(lines)
        if line.product_id not in found
    ]
    if problems:
        raise Invalid("unknown or inactive product(s)", problems)
    return found


def _take_stock(db: Any, sold: list[tuple[Any, int]]) -> None:
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for product, quantity in sold:
        if product.stock_id is not None:
            taken[product.stock_id] += product.units * quantity
    if taken:
        # In id order, so that concurrent sales lock stock rows in one order and never deadlock.
        db.execute(_TAKE_STOCK, [{"stock_id": stock_id, "taken": taken[stock_id]} for stock_id in sorted(taken)])


def sell(db: Any, caller: Identity, order: PurchaseIn, minimum: Decimal) -> PurchaseOut:
    """Sell products; the caller (active bar personnel) is the seller. Returns the purchase as answered.

    Paid with exactly one method: ``wallet`` (debited at once, never below
    ``minimum``; :class:`~.wallet.InsufficientBalance`, a 409, otherwise),
    ``cash`` or ``pin``. Prices are fixed at this moment; sold quantities come
    off stock. A refused sale changes nothing (the caller's transaction rolls back).

    A wallet sale is four statements on PostgreSQL: the products with the
    seller; the purchase with its debit (the conditional UPDATE that is also
    the look for the wallet) and ledger row (:func:`.wallet.try_pay`); the
    lines; the stock. Only a refused sale asks whether the wallet exists, or
    whether the caller is personnel. The answer is built from what the sale
    knows: nothing is read back.
    """
    require(db, caller, SELL)
    rows = db.execute(
        _ON_SALE, {"user_id": caller.user_id, "product_ids": list({line.product_id for line in order.lines})}
    ).all()
    if not rows or rows[0].seller_id is None:
        acting_personnel(db, caller)  # the 403 if the caller is not active personnel
    products = _products(rows, order.lines)
    seller_id = rows[0].seller_id
    paid_from_wallet = order.payment_method is PaymentMethod.wallet
    if paid_from_wallet and order.holder_id is None:
        raise Invalid.field("holder_id", "is required to pay from a wallet")
    sold = [(products[line.product_id], line.quantity) for line in order.lines]
    total = sum((product.price * quantity for product, quantity in sold), Decimal("0.00"))
    debited = paid_from_wallet and total > 0
    if order.holder_id is not None and not debited:
        _require_wallet(db, order.holder_id)  # a debit looks for the wallet itself
    now = utcnow()
    purchase = {
        "holder_id": order.holder_id,
        "seller_id": seller_id,
        "payment_method": order.payment_method,
        "total": total,
        "created_at": now,
    }
    if debited:
        paid = wallet.try_pay(db, minimum, purchase, created_by_id=caller.user_id)
        if paid is None:
            _require_wallet(db, order.holder_id)
            raise wallet.InsufficientBalance(order.holder_id, total)
        purchase_id, balance_after = paid
    else:
        purchase_id, balance_after = db.execute(wallet.NEW_PURCHASE, purchase).scalar_one(), None
    db.execute(
        _NEW_LINES,
        [
            {"purchase_id": purchase_id, "product_id": product.id, "quantity": quantity, "unit_price": product.price}
            for product, quantity in sold
        ],
    )
    _take_stock(db, sold)
    lines = [
        {"product_id": product.id, "product_name": product.name, "quantity": quantity, "unit_price": product.price}
        for product, quantity in sold
    ]
    return PurchaseOut(id=purchase_id, **purchase, lines=lines, balance_after=balance_after)


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
