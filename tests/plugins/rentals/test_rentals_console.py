"""The rentals console pages through WebTest: who may open them, CSRF, and what each does."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from webtest import TestApp

from pyramidion.db import utcnow
from pyramidion.testing.browser import webtest_console_login
from pyramidion_rentals.models import Book, BookType, Rental

BOOKS = "/console/rentals/"
MINE = "/console/rentals/mine"
ALL = "/console/rentals/rentals"
PROFILE = "/console/rentals/profile"


def rental_page(rental_id: int) -> str:
    return f"{ALL}/{rental_id}"


@pytest.fixture
def shelf(db):
    """Three books on the shelf; returns them by name."""
    books = {
        "Dune": Book(name="Dune", author="Frank Herbert", description="Spice.", type=BookType.fiction),
        "Emma": Book(name="Emma", author="Jane Austen", description="Matchmaking.", type=BookType.novel),
        "SICP": Book(name="SICP", author="Abelson, Sussman", description="The wizard book.", type=BookType.regular),
    }
    db.add_all(books.values())
    db.commit()
    return {name: book.id for name, book in books.items()}


@pytest.fixture
def rental_of(db, reader, librarian):
    """A committed rental of ``book_id`` to the reader, from ``rented_at``; returns its id."""

    def make(book_id: int, rented_at: dt.datetime) -> int:
        book = db.get(Book, book_id)
        rental = Rental(book=book, user=reader, book_type=book.type, rented_at=rented_at, recorded_by_id=librarian.id)
        db.add(rental)
        db.commit()
        return rental.id

    return make


def session_of(app, user) -> tuple[TestApp, str]:
    """Another browser, logged in to the console as ``user``; with its CSRF token."""
    client = TestApp(app.app)
    return client, webtest_console_login(client, user.username)


def main_text(page) -> str:
    """The page's main content as text, with whitespace squeezed."""
    html = page.text[page.text.index("<main") : page.text.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- who may open what ----------------------------------------------------------


def every_page(rental_id: int) -> list[str]:
    return [BOOKS, MINE, PROFILE, ALL, rental_page(rental_id), f"{rental_page(rental_id)}/void"]


def test_staff_open_every_page(app, shelf, rental_of, librarian, console_session):
    rental_id = rental_of(shelf["Dune"], utcnow() - dt.timedelta(days=1))
    console_session(librarian)
    for path in every_page(rental_id):
        page = app.get(path, status=200)
        assert page.headers["Cache-Control"] == "no-store"
        assert "<h1>" in page.text


def test_anonymous_visitors_are_sent_to_the_login(app, shelf, rental_of, db):
    rental_id = rental_of(shelf["Dune"], utcnow())
    for path in every_page(rental_id):
        response = app.get(path, status=302)
        assert response.location.startswith("http://localhost/console/login?next=")
    for path in (f"/console/rentals/books/{shelf['Emma']}/rent", f"{rental_page(rental_id)}/return"):
        refused = app.post(path, status=302)  # to the login, and nothing done
        assert refused.location.startswith("http://localhost/console/login")
    db.expire_all()
    assert [book.available for book in db.query(Book).order_by(Book.name)] == [False, True, True]


def test_readers_get_403_on_staff_pages_and_no_menu_entry(app, shelf, rental_of, reader, console_session):
    rental_id = rental_of(shelf["Dune"], utcnow())
    token = console_session(reader)
    for path in (ALL, rental_page(rental_id), f"{rental_page(rental_id)}/void"):
        page = app.get(path, status=403)
        assert "rentals.manage" in page.text
    app.post(f"{rental_page(rental_id)}/void", {"csrf_token": token, "reason": "mine"}, status=403)
    app.post(ALL, {"csrf_token": token, "book_id": shelf["Emma"]}, status=403)
    menu = app.get(BOOKS).html.select("nav.console-nav a")
    assert [a.text for a in menu if "rentals" in a["href"]] == ["Books", "My rentals"]
    assert app.get(f"/api/rentals/v1/rentals/{rental_id}", headers={"X-CSRF-Token": token}).json["voided_at"] is None


def test_staff_see_the_staff_menu_entry(app, librarian, console_session):
    console_session(librarian)
    menu = app.get(BOOKS).html.select("nav.console-nav a")
    assert [a.text for a in menu if "rentals" in a["href"]] == ["Books", "My rentals", "All rentals"]


def test_cookie_posts_without_the_csrf_token_are_refused(app, shelf, rental_of, librarian, reader, console_session):
    rental_id = rental_of(shelf["Dune"], utcnow() - dt.timedelta(days=2))
    console_session(librarian)
    attempts = [
        (BOOKS, {"name": "Persuasion", "author": "Jane Austen", "description": "Second chances."}),
        (f"/console/rentals/books/{shelf['Emma']}/rent", {}),
        (f"{rental_page(rental_id)}/return", {}),
        (ALL, {"book_id": shelf["SICP"], "user_id": reader.id}),
        (rental_page(rental_id), {"rented_at": "2026-01-01T00:00:00"}),
        (f"{rental_page(rental_id)}/void", {"reason": "typo"}),
        (PROFILE, {"name": "Lena Librarian"}),
    ]
    for path, form in attempts:
        app.post(path, form, status=403)
        app.post(path, {**form, "csrf_token": "not the token"}, status=403)
    rental = app.get(f"/api/rentals/v1/rentals/{rental_id}").json  # the cookie reads the API too
    assert (rental["returned_at"], rental["voided_at"]) == (None, None)
    assert app.get("/api/rentals/v1/rentals").json["count"] == 1
    assert app.get("/api/rentals/v1/books").json["count"] == 3


# -- books, renting and returning -----------------------------------------------


def test_books_show_their_availability_and_search(app, shelf, rental_of, reader, console_session):
    rental_of(shelf["Dune"], utcnow())
    console_session(reader)
    rows = app.get(BOOKS).html.select("main tbody tr")
    assert [(r.select_one("strong").text, r.select("td")[3].text.strip()) for r in rows] == [
        ("Dune", "Out on loan"),
        ("Emma", "On the shelf"),
        ("SICP", "On the shelf"),
    ]
    assert [b.get("aria-label") for b in app.get(BOOKS).html.select("main tbody button")] == ["Rent Emma", "Rent SICP"]
    found = app.get(BOOKS, {"search": "austen"}).html.select("main tbody strong")
    assert [s.text for s in found] == ["Emma"]
    shelved = app.get(BOOKS, {"available": "false"}).html.select("main tbody strong")
    assert [s.text for s in shelved] == ["Dune"]
    assert "Add a book" not in app.get(BOOKS).text  # staff only
    assert "Unknown query parameter" in app.get(BOOKS, {"colour": "red"}, status=422).text


def test_a_reader_rents_and_returns_and_sees_the_balances(app, shelf, reader, console_session):
    token = console_session(reader)
    rented = app.post(f"/console/rentals/books/{shelf['Dune']}/rent", {"csrf_token": token}, status=303)
    assert rented.location == "http://localhost" + MINE
    mine = rented.follow()
    assert "You rented Dune" in mine.text
    balances = [(a.h3.text, a.p.text) for a in mine.html.select(".rentals-balance")]
    assert balances == [("Pricing v1", "1.00"), ("Pricing v2", "3.00"), ("Pricing v3", "3.00")]
    row = [td.text.strip() for td in mine.html.select("main tbody tr")[0].select("td")]
    assert row[0] == "Dune" and row[2:7] == ["Out", "1", "1.00", "3.00", "3.00"]

    rental_id = app.get("/api/rentals/v1/rentals").json["results"][0]["id"]
    returned = app.post(
        f"{rental_page(rental_id)}/return", {"csrf_token": token, "back": "rentals.console.mine"}, status=303
    ).follow()
    assert "Dune returned" in returned.text
    assert returned.html.select("main tbody tr button") == []
    assert app.get(f"/api/rentals/v1/books/{shelf['Dune']}").json["available"] is True


def test_renting_a_book_out_on_loan_says_why_and_rents_nothing(app, shelf, rental_of, reader, make_user):
    rental_of(shelf["Dune"], utcnow())
    other, token = session_of(app, make_user("other"))
    refused = other.post(
        f"/console/rentals/books/{shelf['Dune']}/rent", {"csrf_token": token, "back": "rentals.console.books"}
    )
    assert refused.status_int == 303 and refused.location == "http://localhost" + BOOKS
    assert "&#39;Dune&#39; is out on loan" in refused.follow().text
    assert other.get("/api/rentals/v1/rentals").json["count"] == 0


def test_a_reader_cannot_return_another_readers_book(app, shelf, rental_of, make_user):
    rental_id = rental_of(shelf["Dune"], utcnow())
    other, token = session_of(app, make_user("other"))
    other.post(f"{rental_page(rental_id)}/return", {"csrf_token": token}, status=403)
    assert other.get(f"/api/rentals/v1/books/{shelf['Dune']}").json["available"] is False


def test_staff_add_a_book_and_blank_fields_are_named(app, librarian, console_session):
    token = console_session(librarian)
    page = app.post(BOOKS, {"csrf_token": token, "name": "Dune", "author": "   ", "type": "fiction"}, status=422)
    assert page.html.select_one("#field-author-error").text == "Field required"
    assert page.html.select_one("#field-description-error").text == "Field required"
    assert page.html.select_one("#field-name")["value"] == "Dune"  # what was typed stays
    assert app.get("/api/rentals/v1/books").json["count"] == 0

    form = {"csrf_token": token, "name": "Dune", "author": "Frank Herbert", "description": "Spice.", "type": "fiction"}
    added = app.post(BOOKS, form, status=303).follow()
    assert "Dune added" in added.text
    taken = app.post(BOOKS, form, status=409)
    assert taken.html.select_one("#field-name-error").text == "Already taken"


# -- staff: record, correct, void -------------------------------------------------


def test_staff_record_a_back_dated_rental_and_see_the_readers_balance(app, shelf, librarian, reader, console_session):
    token = console_session(librarian)
    five_days_ago = (utcnow() - dt.timedelta(days=5, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    form = {"csrf_token": token, "book_id": shelf["Emma"], "user_id": reader.id, "rented_at": five_days_ago}
    recorded = app.post(ALL, form, status=303).follow()
    assert "Emma recorded as rented to reader" in recorded.text
    rental = app.get(f"/api/rentals/v3/rentals?user_id={reader.id}").json["results"][0]
    assert (rental["days"], rental["charge"]) == (6, "9.00")
    assert rental["rented_at"].startswith(five_days_ago)

    theirs = app.get(ALL, {"user_id": reader.id})
    assert "Balance of reader" in theirs.text
    balances = [a.p.text for a in theirs.html.select(".rentals-balance")]
    assert balances == ["6.00", "9.00", "9.00"]

    future = {**form, "book_id": shelf["Dune"], "rented_at": "2999-01-01T00:00:00"}
    refused = app.post(ALL, future, status=422)
    assert refused.html.select_one("#field-rented_at-error").text == "Cannot be in the future"
    out = app.post(ALL, {**form, "rented_at": ""}, status=409)
    assert out.html.select_one("#field-book_id-error").text == "Out on loan"
    assert app.get("/api/rentals/v1/rentals").json["count"] == 1


def test_staff_correct_a_rentals_dates(app, shelf, rental_of, librarian, console_session):
    rental_id = rental_of(shelf["Dune"], utcnow() - dt.timedelta(hours=1))
    token = console_session(librarian)
    page = app.get(rental_page(rental_id))
    rented_at = page.html.select_one("#field-rented_at")["value"]

    wrong = app.post(rental_page(rental_id), {"csrf_token": token, "returned_at": "2020-01-01T00:00:00"}, status=422)
    assert wrong.html.select_one("#field-returned_at-error").text == "Cannot be before the rental began"
    assert wrong.html.select_one("#field-returned_at")["value"] == "2020-01-01T00:00:00"

    earlier = (utcnow() - dt.timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    returned = (utcnow() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    form = {"csrf_token": token, "rented_at": earlier, "returned_at": returned}
    saved = app.post(rental_page(rental_id), form, status=303).follow()
    assert "Rental of Dune corrected" in saved.text
    rental = app.get(f"/api/rentals/v1/rentals/{rental_id}").json
    assert (rental["rented_at"][:19], rental["returned_at"][:19], rental["days"]) == (earlier, returned, 2)
    assert rented_at != earlier

    # Sent back unchanged, the shown values change nothing (they lack the stored microseconds).
    shown = app.get(rental_page(rental_id)).html
    unchanged = {
        "csrf_token": token,
        "rented_at": shown.select_one("#field-rented_at")["value"],
        "returned_at": shown.select_one("#field-returned_at")["value"],
    }
    app.post(rental_page(rental_id), unchanged, status=303)
    assert app.get(f"/api/rentals/v1/rentals/{rental_id}").json == rental

    reopened = app.post(rental_page(rental_id), {**unchanged, "still_out": "on"}, status=303).follow()
    assert "Not yet" in main_text(reopened)
    assert app.get(f"/api/rentals/v1/books/{shelf['Dune']}").json["available"] is False


def test_staff_void_a_rental_with_a_reason(app, shelf, rental_of, librarian, reader, console_session):
    rental_id = rental_of(shelf["Dune"], utcnow() - dt.timedelta(days=2, hours=1))
    token = console_session(librarian)
    missing = app.post(f"{rental_page(rental_id)}/void", {"csrf_token": token, "reason": "  "}, status=422)
    assert missing.html.select_one("#field-reason-error").text == "Field required"
    assert app.get(f"/api/rentals/v1/rentals/{rental_id}").json["voided_at"] is None

    voided = app.post(f"{rental_page(rental_id)}/void", {"csrf_token": token, "reason": "wrong reader"}, status=303)
    listed = voided.follow()
    assert "Rental of Dune to reader voided" in listed.text
    assert "No rental matches." in listed.text
    balances = [a.p.text for a in app.get(ALL, {"user_id": reader.id}).html.select(".rentals-balance")]
    assert balances == ["0.00", "0.00", "0.00"]
    shown = main_text(app.get(ALL, {"voided": "true"}))
    assert "Dune" in shown and "by librarian: wrong reader" in shown
    details = main_text(app.get(rental_page(rental_id)))
    assert "A voided rental can no longer change." in details and "wrong reader" in details

    again = app.post(f"{rental_page(rental_id)}/void", {"csrf_token": token, "reason": "twice"}, status=409)
    assert "This rental is voided already." in main_text(again)
    assert app.get(f"/api/rentals/v1/rentals/{rental_id}").json["void_reason"] == "wrong reader"


def test_a_reader_keeps_their_renter_profile(app, reader, console_session):
    token = console_session(reader)
    assert app.get(MINE).html.select_one("main a[href$='/console/rentals/profile']").text == "My renter profile"
    wrong = app.post(PROFILE, {"csrf_token": token, "name": "Rita Reader", "phone": "call me"}, status=422)
    assert wrong.html.select_one("#field-phone-error").text == (
        "May hold only digits, spaces and + ( ) . / -, starting with + or a digit"
    )
    assert wrong.html.select_one("#field-name")["value"] == "Rita Reader"
    assert app.get(f"/api/rentals/v1/users/{reader.id}/profile").json["name"] == ""

    profile = {"name": "Rita Reader", "phone": "+31 20 555 0100", "address": "Bookstraat 1"}
    saved = app.post(PROFILE, {"csrf_token": token, **profile}, status=303).follow()
    assert "Profile saved" in saved.text
    assert saved.html.select_one("#field-phone")["value"] == "+31 20 555 0100"
    assert app.get(f"/api/rentals/v1/users/{reader.id}/profile").json == {"user_id": reader.id, **profile}
