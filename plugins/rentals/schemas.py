"""Request and response bodies of the rentals API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, HttpUrl, StringConstraints, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from pyramidion.api import In, Money, Out, Patch, Timestamp
from pyramidion.auth import UserRef

from .models import BookType

_WEB_ADDRESS = TypeAdapter(HttpUrl)


def _web_address(text: str) -> str:
    try:
        return str(_WEB_ADDRESS.validate_python(text))
    except ValidationError:
        # A rule the document's "uri" cannot state in full: http or https, with a host.
        raise ValueError("must be a web address starting with http:// or https://") from None


# Checked as a web address, kept as the text to store (a str all the way, so
# dumping the model for the database gives text, not a Url object).
ImageURL = Annotated[
    str,
    AfterValidator(_web_address),
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 500}),
]


def _filled(text: str) -> str:
    # Python's strip() and the document's pattern (Python's \S) agree on what is blank.
    text = text.strip()
    if not text:
        raise PydanticCustomError("blank", "must not be empty or blank")
    return text


def filled_text(max_length: int) -> Any:
    """Text that is required to say something: refused if empty or blank, stored trimmed.

    The document says so too (``minLength`` 1 and a character that is not a
    space), so a client generating data from it sends only what is accepted.
    """
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(_filled),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}),
    ]


BookName = filled_text(200)
Author = filled_text(200)
Description = filled_text(10_000)
VoidReason = filled_text(500)


class BookIn(In):
    """A new book: name, author and description are required and may not be blank (as in the original)."""

    name: BookName
    description: Description
    author: Author
    type: BookType = BookType.regular
    image_url: ImageURL | None = Field(None, max_length=500)


class BookUpdate(Patch):
    """Only the fields given change; ``image_url`` alone may be cleared with null."""

    name: BookName
    description: Description
    author: Author
    type: BookType
    image_url: ImageURL | None = Field(max_length=500)


class BookOut(Out):
    id: int
    name: str
    description: str
    author: str
    type: BookType
    image_url: str | None
    available: bool = Field(description="not out on loan")


class BookRef(Out):
    id: int
    name: str


class RentalIn(In):
    book_id: int
    user_id: int | None = Field(None, description="the renter (staff only); default: yourself")
    rented_at: Timestamp | None = Field(
        None, description="when the loan began, not in the future (staff only); default: now"
    )


class ReturnIn(In):
    returned_at: Timestamp | None = Field(None, description="when the book came back (staff only); default: now")


class RentalPatch(Patch):
    """A correction of a rental's dates (staff); null ``returned_at`` puts the book back on loan."""

    rented_at: Timestamp = Field(description="when the loan began, not in the future")
    returned_at: Timestamp | None = Field(
        description="when the book came back, not before it was rented; null: still out"
    )


class VoidQuery(In):
    reason: VoidReason = Field(description="why the rental is voided (kept with it)")


class RentalOut(Out):
    id: int
    book: BookRef
    book_type: BookType = Field(description="the book's type when rented; it sets the price")
    user: UserRef
    rented_at: dt.datetime
    returned_at: dt.datetime | None
    days: int = Field(description="days charged: every started day, at least one, to the return or now; 0 if voided")
    charge: Money = Field(description="under the pricing of this API version; 0.00 if voided")
    voided_at: dt.datetime | None = Field(description="when staff voided it; a voided rental counts nowhere")
    voided_by: UserRef | None
    void_reason: str | None


class Balance(Out):
    user_id: int
    balance: Money = Field(description="the charges of all the user's rentals, under the pricing of this API version")


PHONE_PATTERN = r"^(\+?[0-9][0-9 ()./-]*)?$"


def _phone(text: str) -> str:
    if not re.search(PHONE_PATTERN, text):
        raise PydanticCustomError("phone", "may hold only digits, spaces and + ( ) . / -, starting with + or a digit")
    return text.strip()  # the pattern's $ lets a final new line through


# A phone number as people write it; the message says what is allowed, not the pattern.
Phone = Annotated[
    str,
    StringConstraints(max_length=32),
    AfterValidator(_phone),
    WithJsonSchema({"type": "string", "maxLength": 32, "pattern": PHONE_PATTERN}),
]


class ProfileIn(In):
    name: str = Field("", max_length=150)
    phone: Phone = ""
    address: str = Field("", max_length=500)


class ProfileOut(Out):
    user_id: int
    name: str = ""
    phone: str = ""
    address: str = ""
