"""Demo data: six books, a librarian (staff) and a reader with the seed's three rentals.

The demo users' passwords follow the platform's one scheme
(:func:`pyramidion.demo.demo_password`): ``librarian-password``, ``reader-password``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select

from pyramidion.db import utcnow
from pyramidion.demo import demo_user

from .models import Book, BookType, Profile, Rental

DEMO_BOOKS = [
    ("The Pragmatic Programmer", "Andrew Hunt, David Thomas", BookType.regular, "From journeyman to master."),
    (
        "Structure and Interpretation of Computer Programs",
        "Harold Abelson, Gerald Jay Sussman",
        BookType.regular,
        "The wizard book.",
    ),
    ("Dune", "Frank Herbert", BookType.fiction, "Spice, sand and politics on Arrakis."),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", BookType.fiction, "An envoy on the planet Winter."),
    ("Pride and Prejudice", "Jane Austen", BookType.novel, "Elizabeth Bennet and Mr Darcy."),
    ("Things Fall Apart", "Chinua Achebe", BookType.novel, "Okonkwo of Umuofia."),
]

# The seed's example: one rental from now and two from five days (and an hour) ago.
DEMO_RENTALS = [
    ("The Pragmatic Programmer", dt.timedelta(0)),
    ("Dune", dt.timedelta(days=5, hours=1)),
    ("Pride and Prejudice", dt.timedelta(days=5, hours=1)),
]


def add_demo_data(db: Any, registry: Any) -> None:
    """Add the demo books, users and rentals; run again, it adds nothing twice."""
    books = {book.name: book for book in db.scalars(select(Book).where(Book.name.in_([b[0] for b in DEMO_BOOKS])))}
    for name, author, book_type, description in DEMO_BOOKS:
        if name not in books:
            books[name] = Book(name=name, author=author, type=book_type, description=description)
            db.add(books[name])

    librarian = demo_user(db, registry, "librarian", groups=["rentals-staff"])
    reader = demo_user(db, registry, "reader")
    if db.get(Profile, reader.id) is None:
        db.add(
            Profile(user_id=reader.id, name="Rita Reader", phone="+31 20 555 0100", address="Bookstraat 1, Amsterdam")
        )
    if db.scalar(select(exists().where(Rental.user_id == reader.id))):
        return
    now = utcnow()
    for name, ago in DEMO_RENTALS:
        book = books[name]
        if db.scalar(select(Book.available).where(Book.id == book.id)):
            db.add(
                Rental(book=book, user=reader, book_type=book.type, rented_at=now - ago, recorded_by_id=librarian.id)
            )
