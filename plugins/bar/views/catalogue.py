"""Products, categories, stock and stock mutations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from pyramidion.api import Filter, Invalid, Listing, Page, api_view, ensure_unique

from ..access import MANAGE, SELL, get_or_404
from ..models import Category, Product, Stock, StockMutation
from ..schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    MutationIn,
    MutationOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    StockIn,
    StockOut,
)

# -- stock ---------------------------------------------------------------------------


@api_view("bar.stock", response=list[StockOut], permission=SELL)
def list_stock(request: Any) -> list[Stock]:
    """Every stock with what is left."""
    return list(request.db.scalars(select(Stock).order_by(Stock.name)))


@api_view(
    "bar.stock",
    request_method="POST",
    body=StockIn,
    response=StockOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_stock(request: Any, body: StockIn) -> Stock:
    """Add a stock, empty (bar managers); deliveries are mutations."""
    ensure_unique(request.db, Stock.name, body.name)
    stock = Stock(**body.model_dump())
    request.db.add(stock)
    request.db.flush()
    return stock


@api_view("bar.stock.one", response=StockOut, permission=SELL)
def get_stock(request: Any) -> Stock:
    """One stock."""
    return get_or_404(request, Stock)


mutations = Listing(
    key=StockMutation.id,
    ordering={"id": StockMutation.id, "created_at": StockMutation.created_at},
    default_ordering="-created_at",
    search=[StockMutation.comment],
)


@api_view("bar.stock.mutations", query=mutations, response=Page[MutationOut], permission=MANAGE)
def list_mutations(request: Any, query: Any) -> dict[str, Any]:
    """Deliveries and write-offs of a stock, newest first (bar managers)."""
    stock = get_or_404(request, Stock)
    return query.page(select(StockMutation).where(StockMutation.stock_id == stock.id))


@api_view(
    "bar.stock.mutations", request_method="POST", body=MutationIn, response=MutationOut, status=201, permission=MANAGE
)
def add_mutation(request: Any, body: MutationIn) -> StockMutation:
    """Record a delivery (positive) or a write-off (negative) of a stock (bar managers)."""
    stock = get_or_404(request, Stock)
    # Added in the database, not in Python: sales change the same row concurrently.
    request.db.execute(
        update(Stock)
        .where(Stock.id == stock.id)
        .values(quantity=Stock.quantity + body.quantity)
        .execution_options(synchronize_session=False)
    )
    mutation = StockMutation(stock_id=stock.id, created_by_id=request.identity.user.id, **body.model_dump())
    request.db.add(mutation)
    request.db.flush()
    return mutation


# -- products ---------------------------------------------------------------------------

products = Listing(
    key=Product.id,
    ordering={"id": Product.id, "name": Product.name, "price": Product.price},
    default_ordering="name",
    search=[Product.name],
    filters={
        "active": Filter(Product.active, bool),
        "category": Filter(lambda category_id: Product.categories.any(Category.id == category_id), int),
    },
)


def _categories(request: Any, ids: list[int]) -> list[Category]:
    found = list(request.db.scalars(select(Category).where(Category.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise Invalid.field("category_ids", f"no such category: {', '.join(map(str, missing))}")
    return found


def _check_stock(request: Any, stock_id: int | None) -> None:
    if stock_id is not None and request.db.get(Stock, stock_id) is None:
        raise Invalid.field("stock_id", "no such stock")


@api_view("bar.products", query=products, response=Page[ProductOut])
def list_products(request: Any, query: Any) -> dict[str, Any]:
    """Products with their categories."""
    return query.page(select(Product).options(selectinload(Product.categories)))


@api_view(
    "bar.products",
    request_method="POST",
    body=ProductIn,
    response=ProductOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_product(request: Any, body: ProductIn) -> Product:
    """Add a product (bar managers)."""
    ensure_unique(request.db, Product.name, body.name)
    _check_stock(request, body.stock_id)
    product = Product(**body.model_dump(exclude={"category_ids"}), categories=_categories(request, body.category_ids))
    request.db.add(product)
    request.db.flush()
    return product


@api_view("bar.product", response=ProductOut)
def get_product(request: Any) -> Product:
    """One product."""
    return get_or_404(request, Product)


@api_view(
    "bar.product",
    request_method="PATCH",
    body=ProductPatch,
    response=ProductOut,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def update_product(request: Any, body: ProductPatch) -> Product:
    """Change a product (bar managers); past sales keep the price they were sold at."""
    product = get_or_404(request, Product)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "price", "colour", "active", "units", "ledger_account", "category_ids"):
        if required in changes and changes[required] is None:
            raise Invalid.field(required, "may not be null")
    if "name" in changes:
        ensure_unique(request.db, Product.name, changes["name"], exclude=product.id)
    if "stock_id" in changes:
        _check_stock(request, changes["stock_id"])
    if "category_ids" in changes:
        product.categories = _categories(request, changes.pop("category_ids"))
    for field, value in changes.items():
        setattr(product, field, value)
    request.db.flush()
    return product


# -- categories -----------------------------------------------------------------------------


@api_view("bar.categories", response=list[CategoryOut])
def list_categories(request: Any) -> list[Category]:
    """Categories with their products."""
    return list(request.db.scalars(select(Category).options(selectinload(Category.products)).order_by(Category.name)))


@api_view(
    "bar.categories",
    request_method="POST",
    body=CategoryIn,
    response=CategoryOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_category(request: Any, body: CategoryIn) -> Category:
    """Add a category (bar managers); products join it through their ``category_ids``."""
    ensure_unique(request.db, Category.name, body.name)
    category = Category(**body.model_dump(), products=[])
    request.db.add(category)
    request.db.flush()
    return category


@api_view(
    "bar.category",
    request_method="PATCH",
    body=CategoryPatch,
    response=CategoryOut,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def update_category(request: Any, body: CategoryPatch) -> Category:
    """Rename or describe a category (bar managers)."""
    category = get_or_404(request, Category)
    if body.name is not None:
        ensure_unique(request.db, Category.name, body.name, exclude=category.id)
    for field, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(category, field, value)
    request.db.flush()
    return category


@api_view("bar.category", request_method="DELETE", status=204, permission=MANAGE)
def delete_category(request: Any) -> None:
    """Delete a category (bar managers); its products stay."""
    request.db.delete(get_or_404(request, Category))
