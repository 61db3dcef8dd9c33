"""The rentals API: books, rentals, balances and profiles.

Every route answers under each API version (``/api/rentals/v1/...``); the
views are the same for all and only price with the policy of the version in
the path. Each view validates, calls one function of
:mod:`pyramidion_rentals.services` (where the rules and permission checks
are) and answers.
"""

from __future__ import annotations

from typing import Any

from pyramidion.api import Page, api_view
from pyramidion.db import utcnow
from pyramidion.request import Request

from . import services
from .pricing import POLICIES, PricingPolicy
from .schemas import (
    Balance,
    BookIn,
    BookOut,
    BookUpdate,
    ProfileIn,
    ProfileOut,
    RentalIn,
    RentalOut,
    RentalPatch,
    ReturnIn,
    VoidQuery,
)
from .services import STAFF


def _policy(request: Request) -> PricingPolicy:
    return POLICIES[request.matchdict["version"]]


def _path_id(request: Request) -> int:
    return int(request.matchdict["id"])


# -- books ---------------------------------------------------------------------


@api_view("rentals.books", query=services.books_listing, response=Page[BookOut])
def list_books(request: Request, query: Any) -> dict[str, Any]:
    """Books, with whether each is on the shelf; search by name, author and description."""
    return query.page(services.books())


@api_view(
    "rentals.books",
    request_method="POST",
    body=BookIn,
    response=BookOut,
    status=201,
    permission=STAFF,
    responses={409: "Name taken"},
)
def create_book(request: Request, body: BookIn) -> Any:
    """Add a book (staff)."""
    return services.add_book(request.db, request.identity, body.model_dump())


@api_view("rentals.book", response=BookOut)
def get_book(request: Request) -> Any:
    """One book."""
    return services.get_book(request.db, _path_id(request))


@api_view(
    "rentals.book",
    request_method="PATCH",
    body=BookUpdate,
    response=BookOut,
    permission=STAFF,
    responses={409: "Name taken"},
)
def update_book(request: Request, body: BookUpdate) -> Any:
    """Change a book (staff). Rentals already made keep the type they were priced with."""
    return services.change_book(request.db, request.identity, _path_id(request), body.model_dump(exclude_unset=True))


@api_view(
    "rentals.book", request_method="DELETE", status=204, permission=STAFF, responses={409: "The book has rentals"}
)
def delete_book(request: Request) -> None:
    """Remove a book that was never rented (staff); a rented one keeps its history."""
    services.remove_book(request.db, request.identity, _path_id(request))


# -- rentals -------------------------------------------------------------------


@api_view("rentals.rentals", query=services.rentals_listing, response=Page[RentalOut])
def list_rentals(request: Request, query: Any) -> dict[str, Any]:
    """Your rentals (staff: everyone's), each with its charge; search by book name or username."""
    policy, now = _policy(request), utcnow()
    return query.page(
        services.visible_rentals(request.db, request.identity, voided=query.arguments["voided"]),
        transform=lambda rentals: [services.priced(rental, policy, now) for rental in rentals],
    )


@api_view(
    "rentals.rentals",
    request_method="POST",
    body=RentalIn,
    response=RentalOut,
    status=201,
    responses={409: "The book is out on loan"},
)
def rent_book(request: Request, body: RentalIn) -> dict[str, Any]:
    """Rent a book.

    Staff may record a rental for another user (``user_id``) and from a past
    time (``rented_at``, for imports and corrections), as long as the book was
    not out at any time since.
    """
    now = utcnow()
    rental = services.rent_book(
        request.db, request.identity, body.book_id, user_id=body.user_id, rented_at=body.rented_at, now=now
    )
    return services.priced(rental, _policy(request), now)


@api_view("rentals.rental", response=RentalOut)
def get_rental(request: Request) -> dict[str, Any]:
    """One of your rentals (staff: anyone's) with its charge so far."""
    return services.priced(
        services.get_rental(request.db, request.identity, _path_id(request)), _policy(request), utcnow()
    )


@api_view(
    "rentals.rental",
    request_method="PATCH",
    body=RentalPatch,
    response=RentalOut,
    permission=STAFF,
    responses={409: "Overlaps another loan of the book, or the rental was voided"},
)
def change_rental(request: Request, body: RentalPatch) -> dict[str, Any]:
    """Correct a rental's dates (staff), with the checks of a new record: nothing in the future,
    the return not before the rental, no overlap with another loan of the book."""
    now = utcnow()
    rental = services.change_rental(request.db, request.identity, _path_id(request), body.changes(), now=now)
    return services.priced(rental, _policy(request), now)


@api_view(
    "rentals.rental",
    request_method="DELETE",
    query=VoidQuery,
    status=204,
    permission=STAFF,
    responses={409: "Already voided"},
)
def void_rental(request: Request, query: VoidQuery) -> None:
    """Void a rental recorded by mistake (staff), giving a ``reason``.

    The rental is kept, with who voided it, when and why, but no longer counts
    in any balance, holds its book or shows in lists (``?voided=true`` lists
    the voided ones).
    """
    services.void_rental(request.db, request.identity, _path_id(request), query.reason)


@api_view(
    "rentals.rental.return",
    request_method="POST",
    body=ReturnIn,
    response=RentalOut,
    responses={409: "Already returned"},
)
def return_book(request: Request, body: ReturnIn) -> dict[str, Any]:
    """Return a rented book; the charge stops growing. Staff may give an earlier ``returned_at``."""
    now = utcnow()
    rental = services.return_book(
        request.db, request.identity, _path_id(request), returned_at=body.returned_at, now=now
    )
    return services.priced(rental, _policy(request), now)


# -- users: balance and profile ------------------------------------------------


@api_view("rentals.balance", response=Balance)
def balance(request: Request) -> dict[str, Any]:
    """What a user owes: the charges of all their rentals until now, under this version's pricing."""
    user_id = _path_id(request)
    return {"user_id": user_id, "balance": services.balance(request.db, request.identity, user_id, _policy(request))}


@api_view("rentals.profile", response=ProfileOut)
def get_profile(request: Request) -> Any:
    """A renter's name, phone and address (empty until given)."""
    return services.get_profile(request.db, request.identity, _path_id(request))


@api_view("rentals.profile", request_method="PUT", body=ProfileIn, response=ProfileOut)
def put_profile(request: Request, body: ProfileIn) -> Any:
    """Set a renter's name, phone and address (your own; staff: anyone's)."""
    return services.set_profile(request.db, request.identity, _path_id(request), body.model_dump())
