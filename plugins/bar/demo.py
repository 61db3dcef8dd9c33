"""Sample bar data for ``pyramidion demo-data``: stock, products and categories."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from .models import Category, Product, Stock, StockUnit

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


def add_demo_data(db: Any) -> None:
    """Add what is missing, by name; safe to run again."""
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
