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


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    # One route per resource, matching every version: the views read the
    # version from the path and price with its policy.
    version = "/{version:" + "|".join(POLICIES) + "}"
    for name, path in ROUTES.items():
        config.add_route(name, version + path)
    config.scan(".views")


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
