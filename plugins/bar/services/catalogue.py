"""Products, categories, stock and stock mutations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from pyramidion.api import Invalid, ensure_unique, get_or_404
from pyramidion.auth import Identity

from ..models import Category, Product, Stock, StockMutation
from ..schemas import CategoryIn, CategoryPatch, MutationIn, ProductIn, ProductPatch, StockIn
from .access import MANAGE, SELL, require

# -- stock ---------------------------------------------------------------------------


def stock(db: Any, caller: Identity) -> list[Stock]:
    """Every stock with what is left (bar personnel)."""
    require(db, caller, SELL)
    return list(db.scalars(select(Stock).order_by(Stock.name)))


def add_stock(db: Any, caller: Identity, body: StockIn) -> Stock:
    """Add a stock, empty (bar managers); deliveries are mutations."""
    require(db, caller, MANAGE)
    ensure_unique(db, Stock.name, body.name)
    row = Stock(**body.model_dump())
    db.add(row)
    db.flush()
    return row


def get_stock(db: Any, caller: Identity, stock_id: Any) -> Stock:
    require(db, caller, SELL)
    return get_or_404(db, Stock, stock_id)


def mutations(db: Any, caller: Identity, stock_id: Any) -> Any:
    """Deliveries and write-offs of a stock (bar managers), for a listing to page."""
    require(db, caller, MANAGE)
    row = get_or_404(db, Stock, stock_id)
    return select(StockMutation).where(StockMutation.stock_id == row.id)


def mutate_stock(db: Any, caller: Identity, stock_id: Any, body: MutationIn) -> StockMutation:
    """Record a delivery (positive) or a write-off (negative) of a stock (bar managers)."""
    require(db, caller, MANAGE)
    row = get_or_404(db, Stock, stock_id)
    # Added in the database, not in Python: sales change the same row concurrently.
    db.execute(
        update(Stock)
        .where(Stock.id == row.id)
        .values(quantity=Stock.quantity + body.quantity)
        .execution_options(synchronize_session=False)
    )
    mutation = StockMutation(stock_id=row.id, created_by_id=caller.user.id, **body.model_dump())
    db.add(mutation)
    db.flush()
    return mutation


# -- products ---------------------------------------------------------------------------


def _categories(db: Any, ids: list[int]) -> list[Category]:
    found = list(db.scalars(select(Category).where(Category.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise Invalid.field("category_ids", f"no such category: {', '.join(map(str, missing))}")
    return found


def _check_stock(db: Any, stock_id: int | None) -> None:
    if stock_id is not None and db.get(Stock, stock_id) is None:
        raise Invalid.field("stock_id", "no such stock")


def products() -> Any:
    """Products with their categories (anyone logged in), for a listing to page."""
    return select(Product).options(selectinload(Product.categories))


def get_product(db: Any, product_id: Any) -> Product:
    return get_or_404(db, Product, product_id)


def add_product(db: Any, caller: Identity, body: ProductIn) -> Product:
    """Add a product (bar managers)."""
    require(db, caller, MANAGE)
    ensure_unique(db, Product.name, body.name)
    _check_stock(db, body.stock_id)
    product = Product(**body.model_dump(exclude={"category_ids"}), categories=_categories(db, body.category_ids))
    db.add(product)
    db.flush()
    return product


def change_product(db: Any, caller: Identity, product_id: Any, body: ProductPatch) -> Product:
    """Change a product (bar managers); past sales keep the price they were sold at."""
    require(db, caller, MANAGE)
    product = get_or_404(db, Product, product_id)
    changes = body.changes()
    if "name" in changes:
        ensure_unique(db, Product.name, changes["name"], exclude=product.id)
    if "stock_id" in changes:
        _check_stock(db, changes["stock_id"])
    if "category_ids" in changes:
        product.categories = _categories(db, changes.pop("category_ids"))
    for field, value in changes.items():
        setattr(product, field, value)
    db.flush()
    return product


def till_products(db: Any) -> list[tuple[str, list[Product]]]:
    """The products on sale grouped by category, as the till shows them.

    A product shows once, under its first category (by name); one without a
    category under "Other".
    """
    groups: dict[str, list[Product]] = {}
    for product in db.scalars(products().where(Product.active.is_(True)).order_by(Product.name)):
        category = product.categories[0].name if product.categories else "Other"
        groups.setdefault(category, []).append(product)
    return sorted(groups.items(), key=lambda item: (item[0] == "Other", item[0]))


# -- categories -----------------------------------------------------------------------------


def categories(db: Any) -> list[Category]:
    """Categories with their products (anyone logged in)."""
    return list(db.scalars(select(Category).options(selectinload(Category.products)).order_by(Category.name)))


def add_category(db: Any, caller: Identity, body: CategoryIn) -> Category:
    """Add a category (bar managers); products join it through their ``category_ids``."""
    require(db, caller, MANAGE)
    ensure_unique(db, Category.name, body.name)
    category = Category(**body.model_dump(), products=[])
    db.add(category)
    db.flush()
    return category


def change_category(db: Any, caller: Identity, category_id: Any, body: CategoryPatch) -> Category:
    """Rename or describe a category (bar managers)."""
    require(db, caller, MANAGE)
    category = get_or_404(db, Category, category_id)
    changes = body.changes()
    if "name" in changes:
        ensure_unique(db, Category.name, changes["name"], exclude=category.id)
    for field, value in changes.items():
        setattr(category, field, value)
    db.flush()
    return category


def delete_category(db: Any, caller: Identity, category_id: Any) -> None:
    """Delete a category (bar managers); its products stay."""
    require(db, caller, MANAGE)
    db.delete(get_or_404(db, Category, category_id))
