"""Charges under each pricing policy, at every boundary, with a clock we set."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pyramidion_rentals.models import BookType
from pyramidion_rentals.pricing import POLICIES, charged_days

RENTED = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)
REGULAR, FICTION, NOVEL = BookType.regular, BookType.fiction, BookType.novel


@pytest.mark.parametrize(
    ("elapsed", "days"),
    [
        (dt.timedelta(0), 1),
        (SECOND, 1),
        (DAY, 1),
        (DAY + SECOND, 2),
        (2 * DAY, 2),
        (2 * DAY + dt.timedelta(microseconds=1), 3),
        (5 * DAY + dt.timedelta(hours=1), 6),
    ],
)
def test_every_started_day_counts_and_at_least_one(elapsed, days):
    assert charged_days(RENTED, RENTED + elapsed) == days


def test_a_clock_behind_the_rental_still_charges_one_day():
    assert charged_days(RENTED, RENTED - SECOND) == 1


def charge(version: str, book_type: BookType, elapsed: dt.timedelta) -> str:
    """The charge as the API shows it, for a book still out after ``elapsed``."""
    return str(POLICIES[version].charge(book_type, RENTED, None, now=RENTED + elapsed).amount)


@pytest.mark.parametrize("book_type", list(BookType))
@pytest.mark.parametrize(
    ("elapsed", "expected"), [(dt.timedelta(0), "1.00"), (DAY, "1.00"), (DAY + SECOND, "2.00"), (6 * DAY, "6.00")]
)
def test_v1_is_one_a_day_for_every_type(book_type, elapsed, expected):
    assert charge("v1", book_type, elapsed) == expected


@pytest.mark.parametrize(
    ("book_type", "elapsed", "expected"),
    [
        (REGULAR, dt.timedelta(0), "1.50"),
        (REGULAR, DAY, "1.50"),
        (REGULAR, DAY + SECOND, "3.00"),
        (FICTION, dt.timedelta(0), "3.00"),
        (FICTION, DAY, "3.00"),
        (FICTION, DAY + SECOND, "6.00"),
        (NOVEL, dt.timedelta(0), "1.50"),
        (NOVEL, DAY, "1.50"),
        (NOVEL, DAY + SECOND, "3.00"),
    ],
)
def test_v2_daily_rate_by_type(book_type, elapsed, expected):
    assert charge("v2", book_type, elapsed) == expected


@pytest.mark.parametrize(
    ("book_type", "elapsed", "expected"),
    [
        # regular: 2 for the first two days, then 1.5 a day
        (REGULAR, dt.timedelta(0), "2.00"),
        (REGULAR, DAY, "2.00"),
        (REGULAR, DAY + SECOND, "2.00"),
        (REGULAR, 2 * DAY, "2.00"),
        (REGULAR, 2 * DAY + SECOND, "3.50"),
        (REGULAR, 4 * DAY, "5.00"),
        # fiction: 3 a day
        (FICTION, dt.timedelta(0), "3.00"),
        (FICTION, DAY, "3.00"),
        (FICTION, DAY + SECOND, "6.00"),
        # novel: 4.5 up to three days, then 1.5 for every day
        (NOVEL, dt.timedelta(0), "4.50"),
        (NOVEL, DAY, "4.50"),
        (NOVEL, DAY + SECOND, "4.50"),
        (NOVEL, 3 * DAY, "4.50"),
        (NOVEL, 3 * DAY + SECOND, "6.00"),
        (NOVEL, 6 * DAY, "9.00"),
    ],
)
def test_v3_minimum_charges(book_type, elapsed, expected):
    assert charge("v3", book_type, elapsed) == expected


def test_a_returned_rental_stops_at_its_return():
    policy = POLICIES["v2"]
    returned = RENTED + DAY + SECOND
    later = policy.charge(FICTION, RENTED, returned, now=RENTED + 30 * DAY)
    assert (later.days, later.amount) == (2, Decimal("6.00"))


@pytest.mark.parametrize(("version", "total"), [("v1", "13.00"), ("v2", "28.50"), ("v3", "29.00")])
def test_the_seed_example(version, total):
    # One regular book rented now, a fiction and a novel rented five days and an hour ago.
    now = RENTED + 5 * DAY + dt.timedelta(hours=1)
    rentals = [(REGULAR, now), (FICTION, RENTED), (NOVEL, RENTED)]
    policy = POLICIES[version]
    assert str(sum(policy.charge(book_type, at, None, now=now).amount for book_type, at in rentals)) == total
