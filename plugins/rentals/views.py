"""The rentals API: books, rentals, balances and profiles.

Every route answers under each API version (``/api/rentals/v1/...``); the
views are the same for all and only price with the policy of the version in
the path. Staff are the users holding ``rentals.manage``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from pyramidion.api import Conflict, Filter, Invalid, Listing, Page, api_view, ensure_unique
from pyramidion.auth.models import User
from pyramidion.db import utcnow

from .models import Book, BookType, Profile, Rental
from .pricing import POLICIES, PricingPolicy
from .schemas import Balance, BookIn, BookOut, BookUpdate, ProfileIn, ProfileOut, RentalIn, RentalOut, ReturnIn

STAFF = "rentals.manage"


def _is_staff(request: Any) -> bool:
    return bool(request.has_permission(STAFF))


def _policy(request: Any) -> PricingPolicy:
    return POLICIES[request.matchdict["version"]]


def _path_id(request: Any) -> int:
    return int(request.matchdict["id"])


# -- books ---------------------------------------------------------------------

books_listing = Listing(
    key=Book.id,
    ordering={
        "id": Book.id,
        "name": Book.name,
        "author": Book.author,
        "type": Book.type,
        "created_at": Book.created_at,
    },
    default_ordering="name",
    search=[Book.name, Book.author, Book.description],
    filters={
        "type": Filter(Book.type, BookType),
        "available": Filter(
            lambda available: Book.available if available else ~Book.available,
            bool,
            description="on the shelf (true) or out on loan (false)",
        ),
    },
)


def _book(request: Any) -> Book:
    book = request.db.get(Book, _path_id(request))
    if book is None:
        raise HTTPNotFound("no such book")
    return book


@api_view("rentals.books", query=books_listing, response=Page[BookOut])
def list_books(request: Any, query: Any) -> dict[str, Any]:
    """Books, with whether each is on the shelf; search by name, author and description."""
    return query.page(select(Book))


@api_view(
    "rentals.books",
    request_method="POST",
    body=BookIn,
    response=BookOut,
    status=201,
    permission=STAFF,
    responses={409: "Name taken"},
)
def create_book(request: Any, body: BookIn) -> Book:
    """Add a book (staff)."""
    ensure_unique(request.db, Book.name, body.name)
    book = Book(**body.model_dump())
    request.db.add(book)
    request.db.flush()
    return book


@api_view("rentals.book", response=BookOut)
def get_book(request: Any) -> Book:
    """One book."""
    return _book(request)


@api_view(
    "rentals.book",
    request_method="PATCH",
    body=BookUpdate,
    response=BookOut,
    permission=STAFF,
    responses={409: "Name taken"},
)
def update_book(request: Any, body: BookUpdate) -> Book:
    """Change a book (staff). Rentals already made keep the type they were priced with."""
    book = _book(request)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        ensure_unique(request.db, Book.name, changes["name"], exclude=book.id)
    for field, value in changes.items():
        setattr(book, field, value)
    request.db.flush()
    return book


@api_view(
    "rentals.book", request_method="DELETE", status=204, permission=STAFF, responses={409: "The book has rentals"}
)
def delete_book(request: Any) -> None:
    """Remove a book that was never rented (staff); a rented one keeps its history."""
    book = _book(request)
    if request.db.scalar(select(exists().where(Rental.book_id == book.id))):
        raise Conflict("the book has rentals; their charges depend on it")
    request.db.delete(book)


# -- rentals -------------------------------------------------------------------

rentals_listing = Listing(
    key=Rental.id,
    ordering={"id": Rental.id, "rented_at": Rental.rented_at, "returned_at": Rental.returned_at, "book": Book.name},
    default_ordering="-rented_at",
    search=[Book.name, User.username],
    filters={
        "user_id": Filter(Rental.user_id, int),
        "book_id": Filter(Rental.book_id, int),
        "open": Filter(
            lambda open_: Rental.returned_at.is_(None) if open_ else Rental.returned_at.is_not(None),
            bool,
            description="not returned yet (true) or returned (false)",
        ),
    },
)


def _rentals() -> Any:
    """Rentals with their book and renter, in one query."""
    return (
        select(Rental)
        .join(Rental.book)
        .join(Rental.user)
        .options(contains_eager(Rental.book), contains_eager(Rental.user))
    )


def _rental(request: Any) -> Rental:
    """The rental in the path, if it is the caller's or the caller is staff."""
    rental = request.db.scalar(_rentals().where(Rental.id == _path_id(request)))
    if rental is None:
        raise HTTPNotFound("no such rental")
    if rental.user_id != request.identity.user.id and not _is_staff(request):
        raise HTTPForbidden("this is another user's rental")
    return rental


def _priced(rental: Rental, policy: PricingPolicy, now: dt.datetime) -> dict[str, Any]:
    charge = policy.charge(rental.book_type, rental.rented_at, rental.returned_at, now)
    return {
        "id": rental.id,
        "book": rental.book,
        "book_type": rental.book_type,
        "user": rental.user,
        "rented_at": rental.rented_at,
        "returned_at": rental.returned_at,
        "days": charge.days,
        "charge": charge.amount,
    }


@api_view("rentals.rentals", query=rentals_listing, response=Page[RentalOut])
def list_rentals(request: Any, query: Any) -> dict[str, Any]:
    """Your rentals (staff: everyone's), each with its charge; search by book name or username."""
    stmt = _rentals()
    if not _is_staff(request):
        stmt = stmt.where(Rental.user_id == request.identity.user.id)
    policy, now = _policy(request), utcnow()
    return query.page(stmt, transform=lambda rentals: [_priced(r, policy, now) for r in rentals])


@api_view(
    "rentals.rentals",
    request_method="POST",
    body=RentalIn,
    response=RentalOut,
    status=201,
    responses={409: "The book is out on loan"},
)
def rent_book(request: Any, body: RentalIn) -> dict[str, Any]:
    """Rent a book.

    Staff may record a rental for another user (``user_id``) and from a past
    time (``rented_at``, for imports and corrections), as long as the book was
    not out at any time since.
    """
    db, me, now = request.db, request.identity.user, utcnow()
    for_someone_else = body.user_id is not None and body.user_id != me.id
    if (for_someone_else or body.rented_at is not None) and not _is_staff(request):
        raise HTTPForbidden("only staff record rentals for other users or from a past time")
    if body.rented_at is not None and body.rented_at > now:
        raise Invalid.field("rented_at", "cannot be in the future")
    book = db.get(Book, body.book_id)
    if book is None:
        raise Invalid.field("book_id", "no such book")
    renter = db.get(User, body.user_id) if for_someone_else else me
    if renter is None:
        raise Invalid.field("user_id", "no such user")
    rented_at = body.rented_at or now
    # Made up front: after a failed flush the session can no longer read the book's name.
    out_on_loan = Conflict(f"{book.name!r} is out on loan", [{"field": "book_id", "message": "out on loan"}])
    out_since = exists().where(
        Rental.book_id == book.id, or_(Rental.returned_at.is_(None), Rental.returned_at > rented_at)
    )
    if db.scalar(select(out_since)):
        raise out_on_loan
    rental = Rental(book=book, user=renter, book_type=book.type, rented_at=rented_at, recorded_by_id=me.id)
    db.add(rental)
    try:
        db.flush()
    except IntegrityError:
        # A rental of the same book committed between our check and our insert:
        # the unique index on open rentals refused this one.
        raise out_on_loan from None
    return _priced(rental, _policy(request), now)


@api_view("rentals.rental", response=RentalOut)
def get_rental(request: Any) -> dict[str, Any]:
    """One of your rentals (staff: anyone's) with its charge so far."""
    return _priced(_rental(request), _policy(request), utcnow())


@api_view(
    "rentals.rental.return",
    request_method="POST",
    body=ReturnIn,
    response=RentalOut,
    responses={409: "Already returned"},
)
def return_book(request: Any, body: ReturnIn) -> dict[str, Any]:
    """Return a rented book; the charge stops growing. Staff may give an earlier ``returned_at``."""
    rental, now = _rental(request), utcnow()
    if body.returned_at is not None and not _is_staff(request):
        raise HTTPForbidden("only staff record an earlier return")
    returned_at = body.returned_at or now
    if returned_at > now:
        raise Invalid.field("returned_at", "cannot be in the future")
    if returned_at < rental.rented_at:
        raise Invalid.field("returned_at", "cannot be before the rental began")
    # Conditional, so that of two returns racing exactly one closes the rental.
    closed = request.db.execute(
        update(Rental).where(Rental.id == rental.id, Rental.returned_at.is_(None)).values(returned_at=returned_at)
    ).rowcount
    if not closed:
        raise Conflict("the book was already returned")
    return _priced(rental, _policy(request), now)


# -- users: balance and profile ------------------------------------------------


def _subject(request: Any) -> int:
    """The user id in the path: your own, or anyone's for staff (who get 404 for no such user)."""
    user_id = _path_id(request)
    if user_id != request.identity.user.id:
        if not _is_staff(request):
            raise HTTPForbidden("only staff see other users' balances and profiles")
        if request.db.get(User, user_id) is None:
            raise HTTPNotFound("no such user")
    return user_id


@api_view("rentals.balance", response=Balance)
def balance(request: Any) -> dict[str, Any]:
    """What a user owes: the charges of all their rentals until now, under this version's pricing."""
    user_id, policy, now = _subject(request), _policy(request), utcnow()
    rentals = request.db.execute(
        select(Rental.book_type, Rental.rented_at, Rental.returned_at).where(Rental.user_id == user_id)
    )
    total = sum((policy.charge(*rental, now=now).amount for rental in rentals), Decimal("0.00"))
    return {"user_id": user_id, "balance": total}


@api_view("rentals.profile", response=ProfileOut)
def get_profile(request: Any) -> Any:
    """A renter's name, phone and address (empty until given)."""
    user_id = _subject(request)
    return request.db.get(Profile, user_id) or ProfileOut(user_id=user_id)


@api_view("rentals.profile", request_method="PUT", body=ProfileIn, response=ProfileOut)
def put_profile(request: Any, body: ProfileIn) -> Profile:
    """Set a renter's name, phone and address (your own; staff: anyone's)."""
    user_id = _subject(request)
    profile = request.db.get(Profile, user_id)
    if profile is None:
        profile = Profile(user_id=user_id)
        request.db.add(profile)
    for field, value in body.model_dump().items():
        setattr(profile, field, value)
    request.db.flush()
    return profile
