"""Staff correct wrongly recorded rentals: edit their dates, or void them."""

from __future__ import annotations

import datetime as dt

import pytest

from pyramidion.db import utcnow
from pyramidion_rentals.models import Rental

VERSIONS = ("v1", "v2", "v3")


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def ago(**delta: float) -> dt.datetime:
    return utcnow() - dt.timedelta(**delta)


@pytest.fixture
def record(app, as_librarian, reader):
    """Record a rental for the reader as staff, from ``rented_at``; returns its JSON (v1)."""

    def record(book: dict, rented_at: dt.datetime, user_id: int | None = None) -> dict:
        body = {"book_id": book["id"], "user_id": user_id or reader.id, "rented_at": iso(rented_at)}
        return app.post_json("/api/rentals/v1/rentals", body, headers=as_librarian, status=201).json

    return record


def rental_path(rental: dict, version: str = "v1") -> str:
    return f"/api/rentals/{version}/rentals/{rental['id']}"


def test_staff_correct_the_dates_of_a_rental(app, add_book, record, as_librarian, as_reader):
    book = add_book("Dune")
    rental = record(book, ago(hours=1))
    assert rental["days"] == 1

    # It was in fact rented three days ago and came back the next day, an hour later.
    rented_at, returned_at = ago(days=3, hours=1), ago(days=2)
    changed = app.patch_json(
        rental_path(rental), {"rented_at": iso(rented_at), "returned_at": iso(returned_at)}, headers=as_librarian
    ).json
    assert dt.datetime.fromisoformat(changed["rented_at"]) == rented_at
    assert dt.datetime.fromisoformat(changed["returned_at"]) == returned_at
    assert (changed["days"], changed["charge"]) == (2, "2.00")
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_reader).json["available"] is True

    # Only what is sent changes.
    later = app.patch_json(rental_path(rental), {"returned_at": iso(ago(hours=2))}, headers=as_librarian).json
    assert dt.datetime.fromisoformat(later["rented_at"]) == rented_at
    assert later["days"] == 3
    assert app.get(rental_path(rental), headers=as_reader).json["days"] == 3

    # A null return puts the book back out on loan.
    reopened = app.patch_json(rental_path(rental), {"returned_at": None}, headers=as_librarian).json
    assert reopened["returned_at"] is None
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_reader).json["available"] is False


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"rented_at": None}, ["rented_at"]),
        ({"rented_at": "2999-01-01T00:00:00Z"}, ["rented_at"]),
        ({"rented_at": "2026-01-01T00:00:00"}, ["rented_at"]),
        ({"returned_at": "2999-01-01T00:00:00Z"}, ["returned_at"]),
        ({"rented_at": "2999-01-01T00:00:00Z", "returned_at": "2999-01-02T00:00:00Z"}, ["rented_at", "returned_at"]),
        ({"book_id": 1}, ["book_id"]),
        ({"user_id": 1}, ["user_id"]),
    ],
)
def test_invalid_corrections_name_the_field_and_change_nothing(app, add_book, record, as_librarian, change, fields):
    rental = record(add_book("Dune"), ago(days=1, hours=12))
    error = app.patch_json(rental_path(rental), change, headers=as_librarian, status=422).json["error"]
    assert sorted(d["field"] for d in error["details"]) == fields
    assert app.get(rental_path(rental), headers=as_librarian).json == rental


def test_a_return_stays_after_the_rental(app, add_book, record, as_librarian):
    rental = record(add_book("Dune"), ago(days=3))
    returned_at = ago(days=2)
    app.patch_json(rental_path(rental), {"returned_at": iso(returned_at)}, headers=as_librarian)

    error = app.patch_json(rental_path(rental), {"returned_at": iso(ago(days=4))}, headers=as_librarian, status=422)
    assert error.json["error"]["details"][0] == {
        "field": "returned_at",
        "location": "body",
        "message": "cannot be before the rental began",
    }
    error = app.patch_json(rental_path(rental), {"rented_at": iso(ago(days=1))}, headers=as_librarian, status=422)
    assert error.json["error"]["details"][0]["message"] == "cannot be after the book came back"
    after = app.get(rental_path(rental), headers=as_librarian).json
    assert after["rented_at"] == rental["rented_at"]
    assert dt.datetime.fromisoformat(after["returned_at"]) == returned_at


def test_a_correction_cannot_overlap_another_loan_of_the_book(app, add_book, record, as_librarian, make_user):
    book = add_book("Dune")
    first = record(book, ago(days=10))
    app.patch_json(rental_path(first), {"returned_at": iso(ago(days=8))}, headers=as_librarian)
    second = record(book, ago(days=5), user_id=make_user("other").id)

    for change in (
        {"returned_at": iso(ago(days=4))},  # into the second loan
        {"returned_at": None},  # out again while the second is out
        {"rented_at": iso(ago(days=6)), "returned_at": iso(ago(days=1))},  # the second loan inside it
    ):
        refused = app.patch_json(rental_path(first), change, headers=as_librarian, status=409).json["error"]
        assert refused["message"] == "'Dune' was out on another loan in that time"
        assert sorted(d["field"] for d in refused["details"]) == sorted(change)
    conflict = app.patch_json(rental_path(second), {"rented_at": iso(ago(days=9))}, headers=as_librarian, status=409)
    assert conflict.json["error"]["details"] == [{"field": "rented_at", "message": "overlaps another loan of the book"}]

    # Touching is fine: the first came back exactly when the second began.
    app.patch_json(rental_path(first), {"returned_at": second["rented_at"]}, headers=as_librarian, status=200)
    assert app.get(rental_path(first), headers=as_librarian).json["returned_at"] == second["rented_at"]


def test_readers_cannot_correct_or_void_even_their_own(app, add_book, record, as_reader):
    rental = record(add_book("Dune"), ago(days=1, hours=12))
    app.patch_json(rental_path(rental), {"rented_at": iso(ago(hours=1))}, headers=as_reader, status=403)
    app.delete(f"{rental_path(rental)}?reason=mine", headers=as_reader, status=403)
    assert app.get(rental_path(rental), headers=as_reader).json == rental


def test_a_voided_rental_is_kept_but_counts_nowhere(app, add_book, record, as_librarian, as_reader, librarian, reader):
    kept, dune = add_book("SICP"), add_book("Dune", "fiction")
    record(kept, ago(days=1, hours=1))
    mistake = record(dune, ago(days=5, hours=1))
    before = {v: app.get(f"/api/rentals/{v}/users/{reader.id}/balance", headers=as_reader).json for v in VERSIONS}
    assert [before[v]["balance"] for v in VERSIONS] == ["8.00", "21.00", "20.00"]

    app.delete(f"{rental_path(mistake)}?reason=recorded for the wrong reader", headers=as_librarian, status=204)

    # No balance counts it, under any pricing.
    after = {v: app.get(f"/api/rentals/{v}/users/{reader.id}/balance", headers=as_reader).json for v in VERSIONS}
    assert [after[v]["balance"] for v in VERSIONS] == ["2.00", "3.00", "2.00"]
    # It no longer holds the book: anyone may rent it at once.
    assert app.get(f"/api/rentals/v1/books/{dune['id']}", headers=as_reader).json["available"] is True
    again = app.post_json("/api/rentals/v1/rentals", {"book_id": dune["id"]}, headers=as_reader, status=201).json
    # Lists leave it out unless asked for.
    listed = app.get("/api/rentals/v1/rentals", headers=as_librarian).json
    assert sorted(r["book"]["name"] for r in listed["results"]) == ["Dune", "SICP"]
    assert again["id"] in [r["id"] for r in listed["results"]]
    assert mistake["id"] not in [r["id"] for r in listed["results"]]
    voided = app.get("/api/rentals/v2/rentals?voided=true", headers=as_librarian).json
    assert [r["id"] for r in voided["results"]] == [mistake["id"]]
    # Who voided it, when and why are kept and shown.
    shown = app.get(rental_path(mistake, "v3"), headers=as_reader).json
    assert (shown["voided_by"]["username"], shown["void_reason"]) == ("librarian", "recorded for the wrong reader")
    assert utcnow() - dt.datetime.fromisoformat(shown["voided_at"]) < dt.timedelta(minutes=1)
    assert (shown["days"], shown["charge"]) == (0, "0.00")


def test_the_voided_row_stays_in_the_database(app, add_book, record, as_librarian, librarian, db):
    rental = record(add_book("Dune"), ago(days=2))
    app.delete(f"{rental_path(rental)}?reason=duplicate+entry", headers=as_librarian, status=204)
    stored = db.get(Rental, rental["id"])
    assert (stored.voided_by_id, stored.void_reason, stored.returned_at) == (librarian.id, "duplicate entry", None)


def test_voiding_needs_a_reason_and_happens_once(app, add_book, record, as_librarian):
    rental = record(add_book("Dune"), ago(days=2))
    for query in ("", "?reason=", "?reason=%20%20"):
        error = app.delete(rental_path(rental) + query, headers=as_librarian, status=422).json["error"]
        assert [(d["field"], d["location"]) for d in error["details"]] == [("reason", "query")]
    error = app.delete(f"{rental_path(rental)}?reason=typo&force=1", headers=as_librarian, status=422).json["error"]
    assert [d["field"] for d in error["details"]] == ["force"]
    assert app.get(rental_path(rental), headers=as_librarian).json["voided_at"] is None

    app.delete(f"{rental_path(rental)}?reason=typo", headers=as_librarian, status=204)
    again = app.delete(f"{rental_path(rental)}?reason=again", headers=as_librarian, status=409).json["error"]
    assert again["message"] == "the rental was already voided"
    assert app.get(rental_path(rental), headers=as_librarian).json["void_reason"] == "typo"
    app.delete("/api/rentals/v1/rentals/999999?reason=typo", headers=as_librarian, status=404)


def test_a_voided_rental_can_no_longer_change(app, add_book, record, as_librarian, as_reader):
    rental = record(add_book("Dune"), ago(days=2))
    app.delete(f"{rental_path(rental)}?reason=typo", headers=as_librarian, status=204)
    for attempt in (
        lambda: app.post_json(f"{rental_path(rental)}/return", {}, headers=as_reader, status=409),
        lambda: app.patch_json(rental_path(rental), {"rented_at": iso(ago(days=1))}, headers=as_librarian, status=409),
    ):
        assert attempt().json["error"]["message"] == "the rental was voided; it can no longer change"
    assert app.get(rental_path(rental), headers=as_librarian).json["returned_at"] is None


def test_unknown_fields_are_refused_on_rentals_and_profiles(app, add_book, as_reader, reader):
    book = add_book("Dune")
    refusals = [
        app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"], "days": 3}, headers=as_reader, status=422),
        app.put_json(f"/api/rentals/v1/users/{reader.id}/profile", {"email": "x@y.z"}, headers=as_reader, status=422),
    ]
    assert [r.json["error"]["details"][0]["field"] for r in refusals] == ["days", "email"]
    rental = app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"]}, headers=as_reader, status=201).json
    refused = app.post_json(f"{rental_path(rental)}/return", {"late": True}, headers=as_reader, status=422).json
    assert refused["error"]["details"][0]["field"] == "late"
    assert app.get(rental_path(rental), headers=as_reader).json["returned_at"] is None
