"""Renting and returning books, staff records, balances per version, profiles."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy.exc import IntegrityError
from webtest import TestApp

from pyramidion.db import utcnow
from pyramidion_rentals.models import Book, BookType, Rental


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_rent_and_return_a_book(app, add_book, as_reader, reader):
    book = add_book("Dune", "fiction")
    rental = app.post_json("/api/rentals/v2/rentals", {"book_id": book["id"]}, headers=as_reader, status=201).json
    assert rental["book"] == {"id": book["id"], "name": "Dune"}
    assert (rental["user"]["id"], rental["user"]["username"]) == (reader.id, "reader")
    assert (rental["book_type"], rental["returned_at"], rental["days"], rental["charge"]) == (
        "fiction",
        None,
        1,
        "3.00",
    )
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_reader).json["available"] is False

    returned = app.post_json(f"/api/rentals/v2/rentals/{rental['id']}/return", {}, headers=as_reader).json
    assert returned["returned_at"] is not None
    assert returned["charge"] == "3.00"
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_reader).json["available"] is True
    again = app.post_json(f"/api/rentals/v2/rentals/{rental['id']}/return", {}, headers=as_reader, status=409).json
    assert again["error"]["message"] == "the book was already returned"


def test_a_book_out_on_loan_cannot_be_rented(app, add_book, as_reader, make_user, login):
    book = add_book("Dune")
    app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"]}, headers=as_reader, status=201)
    other = login(make_user("other"))
    refused = app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"]}, headers=other, status=409).json
    assert refused["error"]["details"] == [{"field": "book_id", "message": "out on loan"}]
    assert app.get("/api/rentals/v1/rentals", headers=other).json["count"] == 0


def test_renting_a_missing_book_names_the_field(app, as_reader):
    error = app.post_json("/api/rentals/v1/rentals", {"book_id": 999}, headers=as_reader, status=422).json["error"]
    assert error["details"][0]["field"] == "book_id"


def test_concurrent_rentals_of_one_book_let_exactly_one_through(app, add_book, make_user, login, db):
    book = add_book("Dune")
    renters = [login(make_user(f"racer{i}")) for i in range(8)]
    start = threading.Barrier(len(renters))
    statuses: list[int] = []

    def rent(headers: dict[str, str]) -> None:
        client = TestApp(app.app)  # one client per thread, as separate callers would be
        start.wait()
        statuses.append(
            client.post_json(
                "/api/rentals/v1/rentals", {"book_id": book["id"]}, headers=headers, expect_errors=True
            ).status_int
        )

    threads = [threading.Thread(target=rent, args=(headers,)) for headers in renters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert db.query(Rental).filter(Rental.book_id == book["id"]).count() == 1


def test_the_database_itself_refuses_a_second_open_rental(db, reader):
    book = Book(name="Dune", type=BookType.regular)
    db.add(book)
    db.flush()
    db.add(Rental(book=book, user=reader, book_type=book.type))
    db.commit()
    db.add(Rental(book=book, user=reader, book_type=book.type))
    with pytest.raises(IntegrityError):
        db.commit()


def test_readers_see_and_return_only_their_own_rentals(app, add_book, as_reader, make_user, login):
    mine = app.post_json(
        "/api/rentals/v1/rentals", {"book_id": add_book("Dune")["id"]}, headers=as_reader, status=201
    ).json
    other = login(make_user("other"))
    theirs = app.post_json(
        "/api/rentals/v1/rentals", {"book_id": add_book("Emma")["id"]}, headers=other, status=201
    ).json

    listed = app.get("/api/rentals/v1/rentals", headers=as_reader).json
    assert [r["id"] for r in listed["results"]] == [mine["id"]]
    app.get(f"/api/rentals/v1/rentals/{theirs['id']}", headers=as_reader, status=403)
    app.post_json(f"/api/rentals/v1/rentals/{theirs['id']}/return", {}, headers=as_reader, status=403)
    app.get("/api/rentals/v1/rentals/999999", headers=as_reader, status=404)
    assert app.get(f"/api/rentals/v1/rentals/{theirs['id']}", headers=other).json["returned_at"] is None


def test_staff_see_everyone_and_filter(app, add_book, as_reader, as_librarian, reader):
    dune = add_book("Dune")
    emma = add_book("Emma")
    first = app.post_json("/api/rentals/v1/rentals", {"book_id": dune["id"]}, headers=as_reader, status=201).json
    app.post_json(f"/api/rentals/v1/rentals/{first['id']}/return", {}, headers=as_reader)
    app.post_json("/api/rentals/v1/rentals", {"book_id": emma["id"]}, headers=as_librarian, status=201)

    def books(query: str) -> list[str]:
        return [
            r["book"]["name"] for r in app.get(f"/api/rentals/v1/rentals?{query}", headers=as_librarian).json["results"]
        ]

    assert books("ordering=book") == ["Dune", "Emma"]
    assert books(f"user_id={reader.id}") == ["Dune"]
    assert books("open=true") == ["Emma"]
    assert books("search=reader") == ["Dune"]
    assert books(f"book_id={emma['id']}") == ["Emma"]


def test_staff_record_a_past_rental_for_a_reader(app, add_book, as_librarian, as_reader, reader):
    book = add_book("Emma", "novel")
    rented_at = utcnow() - dt.timedelta(days=5, hours=1)
    rental = app.post_json(
        "/api/rentals/v3/rentals",
        {"book_id": book["id"], "user_id": reader.id, "rented_at": iso(rented_at)},
        headers=as_librarian,
        status=201,
    ).json
    assert (rental["user"]["username"], rental["days"], rental["charge"]) == ("reader", 6, "9.00")
    assert dt.datetime.fromisoformat(rental["rented_at"]) == rented_at
    assert [r["id"] for r in app.get("/api/rentals/v3/rentals", headers=as_reader).json["results"]] == [rental["id"]]


def test_staff_cannot_record_a_rental_overlapping_an_earlier_one(app, add_book, as_librarian, as_reader, reader):
    book = add_book("Emma")
    rented = app.post_json(
        "/api/rentals/v1/rentals",
        {"book_id": book["id"], "rented_at": iso(utcnow() - dt.timedelta(days=3))},
        headers=as_librarian,
        status=201,
    ).json
    app.post_json(
        f"/api/rentals/v1/rentals/{rented['id']}/return",
        {"returned_at": iso(utcnow() - dt.timedelta(days=2))},
        headers=as_librarian,
    )
    # The book was out from three days ago until two days ago.
    earlier = {"book_id": book["id"], "user_id": reader.id, "rented_at": iso(utcnow() - dt.timedelta(days=4))}
    app.post_json("/api/rentals/v1/rentals", earlier, headers=as_librarian, status=409)
    later = {**earlier, "rented_at": iso(utcnow() - dt.timedelta(days=1))}
    app.post_json("/api/rentals/v1/rentals", later, headers=as_librarian, status=201)


def test_readers_cannot_rent_for_others_or_backdate(app, add_book, as_reader, librarian):
    book = add_book("Dune")
    for body in ({"user_id": librarian.id}, {"rented_at": iso(utcnow() - dt.timedelta(days=3))}):
        app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"], **body}, headers=as_reader, status=403)
    rental = app.post_json("/api/rentals/v1/rentals", {"book_id": book["id"]}, headers=as_reader, status=201).json
    earlier = {"returned_at": iso(utcnow() - dt.timedelta(hours=1))}
    app.post_json(f"/api/rentals/v1/rentals/{rental['id']}/return", earlier, headers=as_reader, status=403)
    assert app.get(f"/api/rentals/v1/rentals/{rental['id']}", headers=as_reader).json["returned_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rented_at": "2999-01-01T00:00:00Z"}, "rented_at"),
        ({"rented_at": "2026-01-01T00:00:00"}, "rented_at"),
        ({"user_id": 999999}, "user_id"),
        ({"returned_at": "2026-01-01T00:00:00Z"}, "returned_at"),
    ],
)
def test_invalid_staff_records_name_the_field(app, add_book, as_librarian, body, field):
    book = add_book("Dune")
    error = app.post_json(
        "/api/rentals/v1/rentals", {"book_id": book["id"], **body}, headers=as_librarian, status=422
    ).json
    assert error["error"]["details"][0]["field"] == field
    assert app.get("/api/rentals/v1/rentals", headers=as_librarian).json["count"] == 0


def test_a_return_cannot_precede_the_rental_or_lie_ahead(app, add_book, as_librarian):
    book = add_book("Dune")
    rental = app.post_json(
        "/api/rentals/v1/rentals",
        {"book_id": book["id"], "rented_at": iso(utcnow() - dt.timedelta(days=1))},
        headers=as_librarian,
        status=201,
    ).json
    for moment in (utcnow() - dt.timedelta(days=2), utcnow() + dt.timedelta(days=1)):
        error = app.post_json(
            f"/api/rentals/v1/rentals/{rental['id']}/return",
            {"returned_at": iso(moment)},
            headers=as_librarian,
            status=422,
        ).json
        assert error["error"]["details"][0]["field"] == "returned_at"
    assert app.get(f"/api/rentals/v1/rentals/{rental['id']}", headers=as_librarian).json["returned_at"] is None


def test_a_later_change_of_type_does_not_reprice_rentals(app, add_book, as_reader, as_librarian):
    book = add_book("Dune", "regular")
    rental = app.post_json("/api/rentals/v2/rentals", {"book_id": book["id"]}, headers=as_reader, status=201).json
    app.patch_json(f"/api/rentals/v2/books/{book['id']}", {"type": "fiction"}, headers=as_librarian)
    assert app.get(f"/api/rentals/v2/rentals/{rental['id']}", headers=as_reader).json["charge"] == "1.50"


@pytest.mark.parametrize(("version", "balance"), [("v1", "13.00"), ("v2", "28.50"), ("v3", "29.00")])
def test_balance_of_the_seed_example(app, add_book, as_librarian, as_reader, reader, version, balance):
    # One regular book rented now, a fiction and a novel five days and an hour ago
    # (an hour past, so the sixth day has started whatever the time of day).
    app.post_json(
        "/api/rentals/v1/rentals", {"book_id": add_book("SICP", "regular")["id"]}, headers=as_reader, status=201
    )
    five_days_ago = iso(utcnow() - dt.timedelta(days=5, hours=1))
    for name, book_type in (("Dune", "fiction"), ("Emma", "novel")):
        record = {"book_id": add_book(name, book_type)["id"], "user_id": reader.id, "rented_at": five_days_ago}
        app.post_json("/api/rentals/v1/rentals", record, headers=as_librarian, status=201)

    assert app.get(f"/api/rentals/{version}/users/{reader.id}/balance", headers=as_reader).json == {
        "user_id": reader.id,
        "balance": balance,
    }
    assert app.get(f"/api/rentals/{version}/users/{reader.id}/balance", headers=as_librarian).json["balance"] == balance
    charges = [r["charge"] for r in app.get(f"/api/rentals/{version}/rentals", headers=as_reader).json["results"]]
    assert sum(float(c) for c in charges) == float(balance)


def test_balance_is_private(app, as_reader, reader, librarian, as_librarian):
    assert app.get(f"/api/rentals/v1/users/{reader.id}/balance", headers=as_reader).json == {
        "user_id": reader.id,
        "balance": "0.00",
    }
    app.get(f"/api/rentals/v1/users/{librarian.id}/balance", headers=as_reader, status=403)
    app.get("/api/rentals/v1/users/999999/balance", headers=as_reader, status=403)
    app.get("/api/rentals/v1/users/999999/balance", headers=as_librarian, status=404)
    app.get(f"/api/rentals/v1/users/{reader.id}/balance", status=401)


def test_profile_of_a_renter(app, as_reader, reader, librarian, as_librarian):
    empty = app.get(f"/api/rentals/v1/users/{reader.id}/profile", headers=as_reader).json
    assert empty == {"user_id": reader.id, "name": "", "phone": "", "address": ""}
    profile = {"name": "Rita Reader", "phone": "+31 20 555 0100", "address": "Bookstraat 1"}
    saved = app.put_json(f"/api/rentals/v1/users/{reader.id}/profile", profile, headers=as_reader).json
    assert saved == {"user_id": reader.id, **profile}
    assert app.get(f"/api/rentals/v3/users/{reader.id}/profile", headers=as_librarian).json == saved
    app.get(f"/api/rentals/v1/users/{librarian.id}/profile", headers=as_reader, status=403)
    app.put_json(f"/api/rentals/v1/users/{librarian.id}/profile", profile, headers=as_reader, status=403)

    error = app.put_json(
        f"/api/rentals/v1/users/{reader.id}/profile", {"phone": "call me"}, headers=as_reader, status=422
    ).json
    assert error["error"]["details"][0]["field"] == "phone"
    assert app.get(f"/api/rentals/v1/users/{reader.id}/profile", headers=as_reader).json == saved


def test_every_version_is_documented_once(app):
    paths = app.get("/api/openapi.json").json["paths"]
    rentals = sorted(path for path in paths if path.startswith("/api/rentals/"))
    assert rentals == [
        "/api/rentals/{version}/books",
        "/api/rentals/{version}/books/{id}",
        "/api/rentals/{version}/rentals",
        "/api/rentals/{version}/rentals/{id}",
        "/api/rentals/{version}/rentals/{id}/return",
        "/api/rentals/{version}/users/{id}/balance",
        "/api/rentals/{version}/users/{id}/profile",
    ]
    balance = paths["/api/rentals/{version}/users/{id}/balance"]["get"]
    assert {p["name"] for p in balance["parameters"]} == {"version", "id"}


def test_the_public_index_names_every_pricing_version(app):
    rentals = app.get("/api/").json["plugins"]["rentals"]
    assert rentals["versions"] == ["v1", "v2", "v3"]
    assert app.get(rentals["url"] + "/books", status=401)  # the newest version, there for logged-in users
