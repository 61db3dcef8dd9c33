"""Books, rentals and renter profiles.

A book is on loan while it has an open rental (``returned_at`` is null) that
was not voided. The partial unique index ``uq_rentals_rental_open_book``
allows one such rental per book, so two people can never rent the same copy,
even when their requests race each other.

A voided rental (``voided_at`` set) was recorded by mistake: staff void it
rather than delete it, so the row keeps who voided it, when and why, but it
no longer counts anywhere (balances, availability, lists).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, exists, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from pyramidion.auth import User
from pyramidion.db import Base, UTCDateTime, utcnow


class BookType(str, enum.Enum):
    regular = "regular"
    fiction = "fiction"
    novel = "novel"


# Stored as the member names in a VARCHAR with a CHECK: portable, and a new
# type needs no ALTER TYPE on PostgreSQL.
BOOK_TYPE = Enum(BookType, name="book_type", native_enum=False, create_constraint=True, length=20)


class Book(Base):
    __tablename__ = "rentals_book"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[BookType] = mapped_column(BOOK_TYPE, default=BookType.regular)
    image_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# The rows the unique index covers: loans still out and not voided.
OPEN_LOAN = text("returned_at IS NULL AND voided_at IS NULL")


class Rental(Base):
    """One loan of a book to a user, from ``rented_at`` until ``returned_at`` (open while null)."""

    __tablename__ = "rentals_rental"
    __table_args__ = (
        Index(
            "uq_rentals_rental_open_book",
            "book_id",
            unique=True,
            sqlite_where=OPEN_LOAN,
            postgresql_where=OPEN_LOAN,
        ),
        CheckConstraint("returned_at IS NULL OR returned_at >= rented_at", name="returned_after_rented"),
        CheckConstraint("(voided_at IS NULL) = (void_reason IS NULL)", name="voided_with_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: a book or user with rentals keeps them; their charges are money owed.
    book_id: Mapped[int] = mapped_column(ForeignKey("rentals_book.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="RESTRICT"), index=True)
    # The book's type when it was rented: changing a book's type later does
    # not re-price rentals already made.
    book_type: Mapped[BookType] = mapped_column(BOOK_TYPE)
    rented_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Who entered the rental: the renter, or staff recording it for them.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    # Set together when staff void the rental; the reason is required then.
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(String(500))

    book: Mapped[Book] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])


# Declared after Rental, which it reads: whether the book is on the shelf,
# loaded with the book in the same query.
Book.available = column_property(
    ~exists()
    .where(Rental.book_id == Book.id, Rental.returned_at.is_(None), Rental.voided_at.is_(None))
    .correlate_except(Rental)
)


class Profile(Base):
    """What a renter tells about themselves: name, phone and address."""

    __tablename__ = "rentals_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(150), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
