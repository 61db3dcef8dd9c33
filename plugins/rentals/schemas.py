"""Request and response bodies of the rentals API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, WithJsonSchema, field_validator

from pyramidion.api import Money, Timestamp
from pyramidion.auth.schemas import UserRef

from .models import BookType

_WEB_ADDRESS = TypeAdapter(HttpUrl)

# Checked as a web address, kept as the text to store (a str all the way, so
# dumping the model for the database gives text, not a Url object).
ImageURL = Annotated[
    str,
    AfterValidator(lambda text: str(_WEB_ADDRESS.validate_python(text))),
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 500}),
]


class BookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    author: str = Field("", max_length=200)
    type: BookType = BookType.regular
    image_url: ImageURL | None = Field(None, max_length=500)


class BookUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    author: str | None = Field(None, max_length=200)
    type: BookType | None = None
    image_url: ImageURL | None = Field(None, max_length=500)

    @field_validator("name", "description", "author", "type", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Absent means "keep"; an explicit null would blank a required field.
        if value is None:
            raise ValueError("cannot be null")
        return value


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    author: str
    type: BookType
    image_url: str | None
    available: bool = Field(description="not out on loan")


class BookRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class RentalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    book_id: int
    user_id: int | None = Field(None, description="the renter (staff only); default: yourself")
    rented_at: Timestamp | None = Field(
        None, description="when the loan began, not in the future (staff only); default: now"
    )


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    returned_at: Timestamp | None = Field(None, description="when the book came back (staff only); default: now")


class RentalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    book: BookRef
    book_type: BookType = Field(description="the book's type when rented; it sets the price")
    user: UserRef
    rented_at: dt.datetime
    returned_at: dt.datetime | None
    days: int = Field(description="days charged: every started day, at least one, to the return or now")
    charge: Money = Field(description="under the pricing of this API version")


class Balance(BaseModel):
    user_id: int
    balance: Money = Field(description="the charges of all the user's rentals, under the pricing of this API version")


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=150)
    phone: str = Field("", max_length=32, pattern=r"^(\+?[0-9][0-9 ()./-]*)?$")
    address: str = Field("", max_length=500)


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: int
    name: str = ""
    phone: str = ""
    address: str = ""
