"""Selling: purchases paid from a wallet, in cash or by pin."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from pyramidion.api import Filter, Invalid, Listing, Page, Timestamp, api_view

from .. import wallet
from ..access import SELL, acting_personnel, is_staff
from ..models import Holder, LedgerKind, PaymentMethod, Product, Purchase, PurchaseLine, Stock
from ..schemas import LineIn, PurchaseIn, PurchaseOut


def _products(request: Any, lines: list[LineIn]) -> dict[int, Product]:
    wanted = {line.product_id for line in lines}
    found = {
        p.id: p for p in request.db.scalars(select(Product).where(Product.id.in_(wanted), Product.active.is_(True)))
    }
    problems = [
        {"field": f"lines.{index}.product_id", "location": "body", "message": "no such product on sale"}
        for index, line in enumerate(lines)
        if line.product_id not in found
    ]
    if problems:
        raise Invalid("unknown or inactive product(s)", problems)
    return found


def _take_stock(request: Any, products: dict[int, Product], lines: list[LineIn]) -> None:
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        product = products[line.product_id]
        if product.stock_id is not None:
            taken[product.stock_id] += product.units * line.quantity
    # In id order, so that concurrent sales lock stock rows in one order and never deadlock.
    for stock_id in sorted(taken):
        request.db.execute(
            update(Stock)
            .where(Stock.id == stock_id)
            .values(quantity=Stock.quantity - taken[stock_id])
            .execution_options(synchronize_session=False)
        )


@api_view(
    "bar.purchases",
    request_method="POST",
    body=PurchaseIn,
    response=PurchaseOut,
    status=201,
    permission=SELL,
    responses={409: "The wallet holds too little"},
)
def sell(request: Any, body: PurchaseIn) -> Purchase:
    """Sell products (active bar personnel, who are the seller).

    Paid with exactly one method: ``wallet`` (debited at once, never below the
    minimum balance; 409 otherwise), ``cash`` or ``pin``. Prices are fixed at
    this moment; sold quantities come off stock.
    """
    seller = acting_personnel(request)
    products = _products(request, body.lines)
    paid_from_wallet = body.payment_method is PaymentMethod.wallet
    if paid_from_wallet and body.holder_id is None:
        raise Invalid.field("holder_id", "is required to pay from a wallet")
    if body.holder_id is not None and request.db.get(Holder, body.holder_id) is None:
        raise Invalid.field("holder_id", "no such wallet")
    purchase = Purchase(
        holder_id=body.holder_id,
        seller_id=seller.id,
        payment_method=body.payment_method,
        total=sum((products[line.product_id].price * line.quantity for line in body.lines), Decimal("0.00")),
        lines=[
            PurchaseLine(product_id=line.product_id, quantity=line.quantity, unit_price=products[line.product_id].price)
            for line in body.lines
        ],
    )
    request.db.add(purchase)
    request.db.flush()
    if paid_from_wallet and purchase.total > 0:
        entry = wallet.debit(
            request,
            body.holder_id,
            purchase.total,
            LedgerKind.purchase,
            purchase_id=purchase.id,
            created_by_id=seller.user_id,
        )
    else:
        entry = None
    set_committed_value(purchase, "wallet_entry", entry)  # known already: spares a query
    _take_stock(request, products, body.lines)
    request.db.flush()
    return purchase


purchases = Listing(
    key=Purchase.id,
    ordering={"id": Purchase.id, "created_at": Purchase.created_at, "total": Purchase.total},
    default_ordering="-created_at",
    filters={
        "holder_id": Filter(Purchase.holder_id, int),
        "seller_id": Filter(Purchase.seller_id, int),
        "payment_method": Filter(Purchase.payment_method, PaymentMethod),
        "created_after": Filter(Purchase.created_at, Timestamp, "gte"),
        "created_before": Filter(Purchase.created_at, Timestamp, "lte"),
    },
)


def _with_details(stmt: Any) -> Any:
    return stmt.options(selectinload(Purchase.lines), selectinload(Purchase.wallet_entry))


@api_view("bar.purchases", query=purchases, response=Page[PurchaseOut])
def list_purchases(request: Any, query: Any) -> dict[str, Any]:
    """Purchases, newest first: your own, or all for bar personnel."""
    stmt = _with_details(select(Purchase))
    if not is_staff(request):
        stmt = stmt.join(Holder, Holder.id == Purchase.holder_id).where(Holder.user_id == request.identity.user.id)
    return query.page(stmt)


@api_view("bar.purchase", response=PurchaseOut)
def get_purchase(request: Any) -> Purchase:
    """One purchase: your own, or any for bar personnel."""
    purchase = request.db.scalar(_with_details(select(Purchase)).where(Purchase.id == int(request.matchdict["id"])))
    if purchase is None:
        raise HTTPNotFound("no such purchase")
    if not is_staff(request):
        holder = request.db.get(Holder, purchase.holder_id) if purchase.holder_id is not None else None
        if holder is None or holder.user_id != request.identity.user.id:
            raise HTTPForbidden("this is not your purchase")
    return purchase
