"""Products, categories, stock and stock mutations."""

from __future__ import annotations

from typing import Any

from pyramidion.api import Filter, Listing, Page, api_view
from pyramidion.request import Request

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
from ..services import catalogue
from ..services.access import MANAGE, SELL

# -- stock ---------------------------------------------------------------------------


@api_view("bar.stock", response=list[StockOut], permission=SELL)
def list_stock(request: Request) -> list[Stock]:
    """Every stock with what is left."""
    return catalogue.stock(request.db, request.identity)


@api_view(
    "bar.stock",
    request_method="POST",
    body=StockIn,
    response=StockOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_stock(request: Request, body: StockIn) -> Stock:
    """Add a stock, empty (bar managers); deliveries are mutations."""
    return catalogue.add_stock(request.db, request.identity, body)


@api_view("bar.stock.one", response=StockOut, permission=SELL)
def get_stock(request: Request) -> Stock:
    """One stock."""
    return catalogue.get_stock(request.db, request.identity, request.matchdict["id"])


mutations = Listing(
    key=StockMutation.id,
    ordering={"id": StockMutation.id, "created_at": StockMutation.created_at},
    default_ordering="-created_at",
    search=[StockMutation.comment],
)


@api_view("bar.stock.mutations", query=mutations, response=Page[MutationOut], permission=MANAGE)
def list_mutations(request: Request, query: Any) -> dict[str, Any]:
    """Deliveries and write-offs of a stock, newest first (bar managers)."""
    return query.page(catalogue.mutations(request.db, request.identity, request.matchdict["id"]))


@api_view(
    "bar.stock.mutations", request_method="POST", body=MutationIn, response=MutationOut, status=201, permission=MANAGE
)
def add_mutation(request: Request, body: MutationIn) -> StockMutation:
    """Record a delivery (positive) or a write-off (negative) of a stock (bar managers)."""
    return catalogue.mutate_stock(request.db, request.identity, request.matchdict["id"], body)


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


@api_view("bar.products", query=products, response=Page[ProductOut])
def list_products(request: Request, query: Any) -> dict[str, Any]:
    """Products with their categories."""
    return query.page(catalogue.products())


@api_view(
    "bar.products",
    request_method="POST",
    body=ProductIn,
    response=ProductOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_product(request: Request, body: ProductIn) -> Product:
    """Add a product (bar managers)."""
    return catalogue.add_product(request.db, request.identity, body)


@api_view("bar.product", response=ProductOut)
def get_product(request: Request) -> Product:
    """One product."""
    return catalogue.get_product(request.db, request.matchdict["id"])


@api_view(
    "bar.product",
    request_method="PATCH",
    body=ProductPatch,
    response=ProductOut,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def update_product(request: Request, body: ProductPatch) -> Product:
    """Change a product (bar managers); past sales keep the price they were sold at."""
    return catalogue.change_product(request.db, request.identity, request.matchdict["id"], body)


# -- categories -----------------------------------------------------------------------------


@api_view("bar.categories", response=list[CategoryOut])
def list_categories(request: Request) -> list[Category]:
    """Categories with their products."""
    return catalogue.categories(request.db)


@api_view(
    "bar.categories",
    request_method="POST",
    body=CategoryIn,
    response=CategoryOut,
    status=201,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def create_category(request: Request, body: CategoryIn) -> Category:
    """Add a category (bar managers); products join it through their ``category_ids``."""
    return catalogue.add_category(request.db, request.identity, body)


@api_view(
    "bar.category",
    request_method="PATCH",
    body=CategoryPatch,
    response=CategoryOut,
    permission=MANAGE,
    responses={409: "Name taken"},
)
def update_category(request: Request, body: CategoryPatch) -> Category:
    """Rename or describe a category (bar managers)."""
    return catalogue.change_category(request.db, request.identity, request.matchdict["id"], body)


@api_view("bar.category", request_method="DELETE", status=204, permission=MANAGE)
def delete_category(request: Request) -> None:
    """Delete a category (bar managers); its products stay."""
    catalogue.delete_category(request.db, request.identity, request.matchdict["id"])
