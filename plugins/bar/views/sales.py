"""Selling: purchases paid from a wallet, in cash or by pin."""

from __future__ import annotations

from typing import Any

from pyramidion.api import Filter, Listing, Page, Timestamp, api_view
from pyramidion.request import Request

from ..models import PaymentMethod, Purchase
from ..schemas import PurchaseIn, PurchaseOut
from ..services import sales
from ..services.access import SELL
from ..settings import bar_settings


@api_view(
    "bar.purchases",
    request_method="POST",
    body=PurchaseIn,
    response=PurchaseOut,
    status=201,
    permission=SELL,
    responses={409: "The wallet holds too little"},
)
def sell(request: Request, body: PurchaseIn) -> PurchaseOut:
    """Sell products (active bar personnel, who are the seller).

    Paid with exactly one method: ``wallet`` (debited at once, never below the
    minimum balance; 409 otherwise), ``cash`` or ``pin``. Prices are fixed at
    this moment; sold quantities come off stock.
    """
    return sales.sell(request.db, request.identity, body, bar_settings(request.registry).wallet_minimum_balance)


purchase_listing = Listing(
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


@api_view("bar.purchases", query=purchase_listing, response=Page[PurchaseOut])
def list_purchases(request: Request, query: Any) -> dict[str, Any]:
    """Purchases, newest first: your own, or all for bar personnel."""
    return query.page(sales.purchases(request.db, request.identity))


@api_view("bar.purchase", response=PurchaseOut)
def get_purchase(request: Request) -> Purchase:
    """One purchase: your own, or any for bar personnel."""
    return sales.get_purchase(request.db, request.identity, request.matchdict["id"])
