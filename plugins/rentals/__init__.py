"""Pyramidion plugin `rentals`: books, rentals and their charges, priced per API version.

Every resource answers under ``/api/rentals/<version>/`` for each version in
:data:`pyramidion_rentals.pricing.POLICIES`; see ``README.md``.
"""

from __future__ import annotations

from typing import Any

from pyramidion import hookimpl

from . import demo
from .pricing import POLICIES
from .services import STAFF

ROUTES = {
    "rentals.books": "/books",
    "rentals.book": r"/books/{id:\d+}",
    "rentals.rentals": "/rentals",
    "rentals.rental": r"/rentals/{id:\d+}",
    "rentals.rental.return": r"/rentals/{id:\d+}/return",
    "rentals.balance": r"/users/{id:\d+}/balance",
    "rentals.profile": r"/users/{id:\d+}/profile",
}

# Under /console/rentals.
CONSOLE_ROUTES = {
    "rentals.console.books": "/",
    "rentals.console.rent": r"/books/{id:\d+}/rent",
    "rentals.console.mine": "/mine",
    "rentals.console.profile": "/profile",
    "rentals.console.rentals": "/rentals",
    "rentals.console.rental": r"/rentals/{id:\d+}",
    "rentals.console.return": r"/rentals/{id:\d+}/return",
    "rentals.console.void": r"/rentals/{id:\d+}/void",
}


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    # One route per resource, matching every version: the views read the
    # version from the path and price with its policy.
    version = "/{version:" + "|".join(POLICIES) + "}"
    for name, path in ROUTES.items():
        config.add_route(name, version + path)
    config.scan(".views")


@hookimpl
def pyramidion_console(config: Any) -> None:
    for name, path in CONSOLE_ROUTES.items():
        config.add_route(name, path)
    config.add_console_menu("Books", "rentals.console.books", order=60)
    config.add_console_menu("My rentals", "rentals.console.mine", order=61)
    config.add_console_menu("All rentals", "rentals.console.rentals", permission=STAFF, order=62)
    config.add_console_static("pyramidion_rentals:console/static")
    config.scan(".console")


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    versions = list(POLICIES)
    return {
        "description": "Book rentals: books, loans and balances, priced per API version",
        "url": f"/api/rentals/{versions[-1]}",
        "versions": versions,
    }


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [(STAFF, "manage books; see, record and return the rentals of any user")]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {"rentals-staff": [STAFF]}


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    """Six books, two of each type, a librarian (staff) and a reader with three rentals."""
    demo.add_demo_data(db, registry)
