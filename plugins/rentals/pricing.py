"""What a rental costs, per API version.

Each API version (``/api/rentals/v1``, ``/v2``, ...) prices rentals with its
own policy. A policy only says what ``days`` days of a book of some type cost;
how many days a rental counts is the same for all: every started day is a full
day, at least one, up to the return or, for a book still out, up to ``now``.

A new version is a new :class:`PricingPolicy` subclass added to
:data:`POLICIES`; the routes of every version are made from that mapping.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import ClassVar

from pyramidion.api import money

from .models import BookType

DAY = dt.timedelta(days=1)


def charged_days(rented_at: dt.datetime, until: dt.datetime) -> int:
    """Days charged for a loan from ``rented_at`` to ``until``: started days, at least one."""
    started = -(-(until - rented_at) // DAY)  # ceiling division of timedeltas
    return max(1, started)


@dataclasses.dataclass(frozen=True)
class Charge:
    days: int
    amount: Decimal


class PricingPolicy(ABC):
    version: ClassVar[str]

    @abstractmethod
    def price(self, book_type: BookType, days: int) -> Decimal:
        """What ``days`` days (at least one) of a book of ``book_type`` cost."""

    def charge(
        self, book_type: BookType, rented_at: dt.datetime, returned_at: dt.datetime | None, now: dt.datetime
    ) -> Charge:
        """The charge of a rental, to its return or, while the book is out, to ``now``."""
        days = charged_days(rented_at, returned_at or now)
        return Charge(days, money(self.price(book_type, days)))


class FlatRate(PricingPolicy):
    """v1: 1 a day, whatever the book."""

    version = "v1"

    def price(self, book_type: BookType, days: int) -> Decimal:
        return Decimal(days)


class DailyRateByType(PricingPolicy):
    """v2: a daily rate per type of book."""

    version = "v2"
    daily = {BookType.regular: Decimal("1.5"), BookType.fiction: Decimal("3"), BookType.novel: Decimal("1.5")}

    def price(self, book_type: BookType, days: int) -> Decimal:
        return self.daily[book_type] * days


class MinimumCharges(PricingPolicy):
    """v3: regular books cost 2 for the first two days, then 1.5 a day; fiction 3 a day;
    novels 4.5 for up to three days, beyond that 1.5 for every day."""

    version = "v3"

    def price(self, book_type: BookType, days: int) -> Decimal:
        if book_type is BookType.regular:
            return Decimal(2) + max(0, days - 2) * Decimal("1.5")
        if book_type is BookType.fiction:
            return Decimal(3) * days
        return Decimal("4.5") if days <= 3 else Decimal("1.5") * days


POLICIES: dict[str, PricingPolicy] = {
    policy.version: policy for policy in (FlatRate(), DailyRateByType(), MinimumCharges())
}
