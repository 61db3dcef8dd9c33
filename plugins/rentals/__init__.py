"""Pyramidion plugin `rentals`: books, rentals and their charges, priced per API version.

Every resource answers under ``/api/rentals/<version>/`` for each version in
:data:`pyramidion_rentals.pricing.POLICIES`; see ``README.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.auth.models import Group, User
from pyramidion.db import utcnow

from . import models
from .pricing import POLICIES

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
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [("rentals.manage", "manage books; see, record and return the rentals of any user")]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {"rentals-staff": ["rentals.manage"]}


DEMO_BOOKS = [
    ("The Pragmatic Programmer", "Andrew Hunt, David Thomas", models.BookType.regular, "From journeyman to master."),
    (
        "Structure and Interpretation of Computer Programs",
        "Harold Abelson, Gerald Jay Sussman",
        models.BookType.regular,
        "The wizard book.",
    ),
    ("Dune", "Frank Herbert", models.BookType.fiction, "Spice, sand and politics on Arrakis."),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", models.BookType.fiction, "An envoy on the planet Winter."),
    ("Pride and Prejudice", "Jane Austen", models.BookType.novel, "Elizabeth Bennet and Mr Darcy."),
    ("Things Fall Apart", "Chinua Achebe", models.BookType.novel, "Okonkwo of Umuofia."),
]


def _demo_user(db: Any, registry: Any, username: str, password: str) -> tuple[User, bool]:
    """The demo user ``username``, and whether it was created just now."""
    user = db.scalar(select(User).where(User.username == username))
    if user is not None:
        return user, False
    user = User(username=username, email=f"{username}@example.com", password_hash=registry.passwords.hash(password))
    db.add(user)
    return user, True


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    """Six books, two of each type, a librarian (staff) and a reader with three rentals."""
    Book, Rental = models.Book, models.Rental
    books = {book.name: book for book in db.scalars(select(Book).where(Book.name.in_([b[0] for b in DEMO_BOOKS])))}
    for name, author, book_type, description in DEMO_BOOKS:
        if name not in books:
            books[name] = Book(name=name, author=author, type=book_type, description=description)
            db.add(books[name])

    librarian, _ = _demo_user(db, registry, "librarian", "librarian-demo")
    staff = db.scalar(select(Group).where(Group.name == "rentals-staff"))
    if staff is not None and staff not in librarian.groups:
        librarian.groups.append(staff)

    reader, created = _demo_user(db, registry, "reader", "reader-demo")
    if not created:
        return
    db.flush()
    db.add(
        models.Profile(
            user_id=reader.id, name="Rita Reader", phone="+31 20 555 0100", address="Bookstraat 1, Amsterdam"
        )
    )
    # The seed's example: one rental from now and two from five days ago.
    now = utcnow()
    five_days_ago = now - dt.timedelta(days=5, hours=1)
    for name, rented_at in (
        ("The Pragmatic Programmer", now),
        ("Dune", five_days_ago),
        ("Pride and Prejudice", five_days_ago),
    ):
        book = books[name]
        if db.scalar(select(Book.available).where(Book.id == book.id)):
            db.add(
                Rental(book=book, user=reader, book_type=book.type, rented_at=rented_at, recorded_by_id=librarian.id)
            )
