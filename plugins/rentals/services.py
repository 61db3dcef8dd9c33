"""The rules of the lending library: one function per use case.

Every function takes the database session and the caller (the
:class:`~pyramidion.auth.Identity` of the user acting) and raises the API's
errors, so the JSON API and the console pages share one set of rules and
permission checks. Staff are the users holding ``rentals.manage``
(superusers included).

Functions that price take the :class:`~pyramidion_rentals.pricing.PricingPolicy`
of the API version asked for, and ``now`` so that a test can fix the clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from pyramidion.api import Argument, Conflict, Filter, Invalid, Listing, ensure_unique, get_or_404, money
from pyramidion.auth import Identity, User
from pyramidion.db import utcnow

from .models import Book, BookType, Profile, Rental
from .pricing import POLICIES, Charge, PricingPolicy

STAFF = "rentals.manage"


def is_staff(db: Any, caller: Identity) -> bool:
    """Whether the caller may manage books and everyone's rentals."""
    return caller.holds(db, STAFF)


def _require_staff(db: Any, caller: Identity, why: str) -> None:
    if not is_staff(db, caller):
        raise HTTPForbidden(why)


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


def books() -> Select:
    """Every book; every logged-in user may list them (narrowed by :data:`books_listing`)."""
    return select(Book)


def get_book(db: Any, book_id: int) -> Book:
    return get_or_404(db, Book, book_id, what="book")


def add_book(db: Any, caller: Identity, fields: dict[str, Any]) -> Book:
    """Add a book (staff); 409 on a name taken."""
    _require_staff(db, caller, "only staff add books")
    ensure_unique(db, Book.name, fields["name"])
    book = Book(**fields)
    db.add(book)
    db.flush()
    return book


def change_book(db: Any, caller: Identity, book_id: int, changes: dict[str, Any]) -> Book:
    """Change the fields in ``changes`` (staff). Rentals already made keep the type they were priced with."""
    _require_staff(db, caller, "only staff change books")
    book = get_book(db, book_id)
    if changes.get("name") is not None:
        ensure_unique(db, Book.name, changes["name"], exclude=book.id)
    for field, value in changes.items():
        setattr(book, field, value)
    db.flush()
    return book


def remove_book(db: Any, caller: Identity, book_id: int) -> None:
    """Remove a book that was never rented (staff); a rented one keeps its history."""
    _require_staff(db, caller, "only staff remove books")
    book = get_book(db, book_id)
    if db.scalar(select(exists().where(Rental.book_id == book.id))):
        raise Conflict("the book has rentals; their charges depend on it")
    db.delete(book)


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
    arguments={
        "voided": Argument(bool, False, description="list only the voided rentals (true); they are left out otherwise"),
    },
)


def _with_book_and_renter() -> Select:
    """Rentals with their book and renter, in one query."""
    return (
        select(Rental)
        .join(Rental.book)
        .join(Rental.user)
        .options(contains_eager(Rental.book), contains_eager(Rental.user), joinedload(Rental.voided_by))
    )


def visible_rentals(db: Any, caller: Identity, *, voided: bool = False) -> Select:
    """The rentals the caller may see: their own, or everyone's for staff; voided ones only if asked."""
    stmt = _with_book_and_renter().where(Rental.voided_at.is_not(None) if voided else Rental.voided_at.is_(None))
    if not is_staff(db, caller):
        stmt = stmt.where(Rental.user_id == caller.user.id)
    return stmt


def get_rental(db: Any, caller: Identity, rental_id: int) -> Rental:
    """The rental ``rental_id``, if it is the caller's or the caller is staff."""
    rental = db.scalar(_with_book_and_renter().where(Rental.id == rental_id))
    if rental is None:
        raise HTTPNotFound("no such rental")
    if rental.user_id != caller.user.id and not is_staff(db, caller):
        raise HTTPForbidden("this is another user's rental")
    return rental


def _refuse_voided(rental: Rental) -> None:
    if rental.voided_at is not None:
        raise Conflict("the rental was voided; it can no longer change")


def _out_on_another_loan(
    book_id: int, start: dt.datetime, end: dt.datetime | None, *, besides: int | None = None
) -> Any:
    """A query: does another loan of the book, not voided, overlap ``start`` to ``end`` (``None``: still out)?

    Loans may touch: a book returned at noon can be rented from noon.
    """
    clauses = [
        Rental.book_id == book_id,
        Rental.voided_at.is_(None),
        or_(Rental.returned_at.is_(None), Rental.returned_at > start),
    ]
    if end is not None:
        clauses.append(Rental.rented_at < end)
    if besides is not None:
        clauses.append(Rental.id != besides)
    return select(exists().where(*clauses))


def priced(rental: Rental, policy: PricingPolicy, now: dt.datetime) -> dict[str, Any]:
    """The rental as the API shows it, with its days and charge under ``policy`` until ``now``.

    A voided rental is charged nothing.
    """
    if rental.voided_at is not None:
        charge = Charge(0, money(0))
    else:
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
        "voided_at": rental.voided_at,
        "voided_by": rental.voided_by,
        "void_reason": rental.void_reason,
    }


def rent_book(
    db: Any,
    caller: Identity,
    book_id: int,
    *,
    user_id: int | None = None,
    rented_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Rental:
    """Rent a book, for yourself from now.

    Staff may record a rental for another user (``user_id``) and from a past
    time (``rented_at``, for imports and corrections), as long as the book was
    not out at any time since. 409 when the book is out on loan.
    """
    me, now = caller.user, now or utcnow()
    for_someone_else = user_id is not None and user_id != me.id
    if for_someone_else or rented_at is not None:
        _require_staff(db, caller, "only staff record rentals for other users or from a past time")
    if rented_at is not None and rented_at > now:
        raise Invalid.field("rented_at", "cannot be in the future")
    book = db.get(Book, book_id)
    if book is None:
        raise Invalid.field("book_id", "no such book")
    renter = db.get(User, user_id) if for_someone_else else me
    if renter is None:
        raise Invalid.field("user_id", "no such user")
    rented_at = rented_at or now
    # Made up front: after a failed flush the session can no longer read the book's name.
    out_on_loan = Conflict(f"{book.name!r} is out on loan", [{"field": "book_id", "message": "out on loan"}])
    if db.scalar(_out_on_another_loan(book.id, rented_at, None)):
        raise out_on_loan
    rental = Rental(book=book, user=renter, book_type=book.type, rented_at=rented_at, recorded_by_id=me.id)
    db.add(rental)
    try:
        db.flush()
    except IntegrityError:
        # A rental of the same book committed between our check and our insert:
        # the unique index on open rentals refused this one.
        raise out_on_loan from None
    return rental


def return_book(
    db: Any, caller: Identity, rental_id: int, *, returned_at: dt.datetime | None = None, now: dt.datetime | None = None
) -> Rental:
    """Return a rented book; the charge stops growing. Staff may give an earlier ``returned_at``."""
    rental, now = get_rental(db, caller, rental_id), now or utcnow()
    if returned_at is not None:
        _require_staff(db, caller, "only staff record an earlier return")
    _refuse_voided(rental)
    returned_at = returned_at or now
    if returned_at > now:
        raise Invalid.field("returned_at", "cannot be in the future")
    if returned_at < rental.rented_at:
        raise Invalid.field("returned_at", "cannot be before the rental began")
    # Conditional, so that of two returns racing exactly one closes the rental.
    closed = db.execute(
        update(Rental)
        .where(Rental.id == rental.id, Rental.returned_at.is_(None), Rental.voided_at.is_(None))
        .values(returned_at=returned_at)
    ).rowcount
    if not closed:
        raise Conflict("the book was already returned")
    return rental


def change_rental(
    db: Any, caller: Identity, rental_id: int, changes: dict[str, Any], *, now: dt.datetime | None = None
) -> Rental:
    """Correct a rental's dates (staff): ``rented_at`` and ``returned_at`` (``None``: the book is still out).

    The same checks as when recording: no date in the future, the return not
    before the rental, and no overlap with another loan of the book (409).
    """
    _require_staff(db, caller, "only staff correct rentals")
    rental, now = get_rental(db, caller, rental_id), now or utcnow()
    _refuse_voided(rental)
    rented_at = changes.get("rented_at", rental.rented_at)
    returned_at = changes.get("returned_at", rental.returned_at)
    problems = []
    if rented_at > now:
        problems.append(("rented_at", "cannot be in the future"))
    if returned_at is not None and returned_at > now:
        problems.append(("returned_at", "cannot be in the future"))
    if returned_at is not None and returned_at < rented_at:
        if "returned_at" in changes:
            problems.append(("returned_at", "cannot be before the rental began"))
        else:
            problems.append(("rented_at", "cannot be after the book came back"))
    if problems:
        raise Invalid(
            "; ".join(f"{field}: {message}" for field, message in problems),
            [{"field": field, "location": "body", "message": message} for field, message in problems],
        )
    overlaps = Conflict(
        f"{rental.book.name!r} was out on another loan in that time",
        [{"field": field, "message": "overlaps another loan of the book"} for field in changes],
    )
    if db.scalar(_out_on_another_loan(rental.book_id, rented_at, returned_at, besides=rental.id)):
        raise overlaps
    rental.rented_at, rental.returned_at = rented_at, returned_at
    try:
        db.flush()
    except IntegrityError:
        # The book was rented again between our check and our update.
        raise overlaps from None
    return rental


def void_rental(db: Any, caller: Identity, rental_id: int, reason: str, *, now: dt.datetime | None = None) -> Rental:
    """Void a rental recorded by mistake (staff). It stays, with who voided it, when and why,
    but counts in no balance, holds no book and leaves the lists."""
    _require_staff(db, caller, "only staff void rentals")
    rental = get_rental(db, caller, rental_id)
    voided = db.execute(
        update(Rental)
        .where(Rental.id == rental.id, Rental.voided_at.is_(None))
        .values(voided_at=now or utcnow(), voided_by_id=caller.user.id, void_reason=reason)
    ).rowcount
    if not voided:
        raise Conflict("the rental was already voided")
    db.refresh(rental)
    return rental


# -- users: balance and profile ------------------------------------------------


def _subject(db: Any, caller: Identity, user_id: int) -> int:
    """``user_id`` if it is the caller, or for staff anyone (404 for no such user)."""
    if user_id != caller.user.id:
        _require_staff(db, caller, "only staff see other users' balances and profiles")
        get_or_404(db, User, user_id, what="user")
    return user_id


def balance(
    db: Any, caller: Identity, user_id: int, policy: PricingPolicy, *, now: dt.datetime | None = None
) -> Decimal:
    """What a user owes: the charges of all their rentals until ``now``, under ``policy``."""
    return balances(db, caller, user_id, [policy], now=now)[policy.version]


def balances(
    db: Any,
    caller: Identity,
    user_id: int,
    policies: list[PricingPolicy] | None = None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Decimal]:
    """A user's balance under each pricing version (every one unless ``policies`` are given)."""
    user_id, now = _subject(db, caller, user_id), now or utcnow()
    rentals = db.execute(
        select(Rental.book_type, Rental.rented_at, Rental.returned_at).where(
            Rental.user_id == user_id, Rental.voided_at.is_(None)
        )
    ).all()
    return {
        policy.version: sum((policy.charge(*rental, now=now).amount for rental in rentals), Decimal("0.00"))
        for policy in policies or POLICIES.values()
    }


def get_profile(db: Any, caller: Identity, user_id: int) -> Profile:
    """A renter's name, phone and address (an empty, unsaved profile until given)."""
    user_id = _subject(db, caller, user_id)
    return db.get(Profile, user_id) or Profile(user_id=user_id, name="", phone="", address="")


def set_profile(db: Any, caller: Identity, user_id: int, fields: dict[str, Any]) -> Profile:
    """Set a renter's name, phone and address (your own; staff: anyone's)."""
    user_id = _subject(db, caller, user_id)
    profile = db.get(Profile, user_id)
    if profile is None:
        profile = Profile(user_id=user_id)
        db.add(profile)
    for field, value in fields.items():
        setattr(profile, field, value)
    db.flush()
    return profile
