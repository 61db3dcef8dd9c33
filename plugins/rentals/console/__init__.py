"""Console pages of the lending library: books, renting and returning, balances, staff corrections.

Every page calls the same functions of :mod:`pyramidion_rentals.services` as
the JSON API and checks its forms with the API's schemas, so a page can never
allow what the API refuses. Times are shown and typed in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from pyramidion.auth import User
from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.db import utcnow
from pyramidion.request import Request

from .. import services
from ..models import Book, BookType, Rental
from ..pricing import POLICIES
from ..schemas import BookIn, ProfileIn, RentalIn, RentalPatch, VoidQuery

TEMPLATES = "pyramidion_rentals:console/templates/"
STAFF = services.STAFF
# The most people and books a staff form offers to choose from.
CHOICES = 500
# What a datetime-local input sends and shows, to the second.
LOCAL_INPUT = "%Y-%m-%dT%H:%M:%S"
# Pages a button may send the browser back to, by route name (never a URL from the form).
BACK_TO = {"rentals.console.books", "rentals.console.mine", "rentals.console.rentals"}


def input_time(moment: dt.datetime | None) -> str:
    """``moment`` as a datetime-local input shows it, in UTC."""
    return moment.astimezone(dt.UTC).strftime(LOCAL_INPUT) if moment is not None else ""


def _read_as_utc(values: dict[str, Any], *names: str) -> dict[str, Any]:
    """The form's values, with times typed in a datetime-local input (which has no zone) read as UTC."""
    for name in names:
        text = values.get(name)
        if isinstance(text, str) and len(text) <= len("YYYY-MM-DDTHH:MM:SS"):
            values[name] = text + "+00:00"
    return values


def _priced_everywhere(rental: Rental, now: dt.datetime) -> dict[str, Any]:
    """A rental with its days and its charge under every pricing version, for a table row."""
    charges = {version: services.priced(rental, policy, now) for version, policy in POLICIES.items()}
    return {"rental": rental, "days": next(iter(charges.values()))["days"], "charges": charges}


def _rows(page: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**page, "results": [_priced_everywhere(rental, now) for rental in page["results"]]}


def _back(request: Request, fallback: str) -> HTTPSeeOther:
    route = request.POST.get("back")
    return HTTPSeeOther(request.route_url(route if route in BACK_TO else fallback))


def _refused(request: Request, exc: BaseException, fallback: str) -> HTTPSeeOther:
    """A button's action was refused: nothing is kept, the reason shows on the page it came from."""
    request.tm.doom()
    message = getattr(exc, "message", None) or str(exc)
    flash(request, message[:1].upper() + message[1:], "error")
    return _back(request, fallback)


def _common(request: Request) -> dict[str, Any]:
    return {
        "versions": list(POLICIES),
        "is_staff": services.is_staff(request.db, request.identity),
        "input_time": input_time,
    }


# -- books ---------------------------------------------------------------------


@console_view("rentals.console.books", template=TEMPLATES + "books.jinja2", request_method=("GET", "POST"))
def books(request: Request) -> Any:
    """The books with whether each is on the shelf (search, type, availability); staff add books here."""
    form = Form(request, BookIn)
    if form.submitted:
        try:
            book = services.add_book(request.db, request.identity, form.validate().model_dump())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"{book.name} added")
            return HTTPSeeOther(request.route_url("rentals.console.books"))
    query = services.books_listing.parse(request)
    return {
        **_common(request),
        "form": form,
        "page": query.page(services.books()),
        "types": [(kind.value, kind.value.capitalize()) for kind in BookType],
        "search": request.GET.get("search", ""),
        "available": request.GET.get("available", ""),
    }


@console_view("rentals.console.rent", request_method="POST")
def rent(request: Request) -> Any:
    """Rent a book for yourself, from now."""
    try:
        body = RentalIn.model_validate({"book_id": request.matchdict["id"]})
        rental = services.rent_book(request.db, request.identity, body.book_id)
    except FORM_ERRORS as exc:
        return _refused(request, exc, "rentals.console.books")
    flash(request, f"You rented {rental.book.name}")
    return HTTPSeeOther(request.route_url("rentals.console.mine"))


# -- my rentals ----------------------------------------------------------------


@console_view("rentals.console.mine", template=TEMPLATES + "mine.jinja2")
def my_rentals(request: Request) -> Any:
    """My rentals with their charges, and my balance, under every pricing version side by side."""
    me, now = request.identity.user, utcnow()
    query = services.rentals_listing.parse(request)
    mine = services.visible_rentals(request.db, request.identity).where(Rental.user_id == me.id)
    return {
        **_common(request),
        "page": _rows(query.page(mine), now),
        "balances": services.balances(request.db, request.identity, me.id, now=now),
    }


@console_view("rentals.console.return", request_method="POST")
def return_book(request: Request) -> Any:
    """Return a book: yours, or anyone's for staff."""
    try:
        rental = services.return_book(request.db, request.identity, int(request.matchdict["id"]))
    except FORM_ERRORS as exc:
        return _refused(request, exc, "rentals.console.mine")
    flash(request, f"{rental.book.name} returned")
    return _back(request, "rentals.console.mine")


@console_view("rentals.console.profile", template=TEMPLATES + "profile.jinja2", request_method=("GET", "POST"))
def my_profile(request: Request) -> Any:
    """My renter profile: name, phone and address, for the library to reach me."""
    db, caller = request.db, request.identity
    profile = services.get_profile(db, caller, caller.user.id)
    initial = {"name": profile.name, "phone": profile.phone, "address": profile.address}
    form = Form(request, ProfileIn, initial=initial)
    if form.submitted:
        try:
            services.set_profile(db, caller, caller.user.id, form.validate().model_dump())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, "Profile saved")
            return HTTPSeeOther(request.route_url("rentals.console.profile"))
    return {"form": form}


# -- staff: everyone's rentals -----------------------------------------------------


def _choices(request: Request) -> dict[str, Any]:
    db = request.db
    users = db.execute(select(User.id, User.username).where(User.is_active).order_by(User.username).limit(CHOICES))
    books = db.execute(select(Book.id, Book.name, Book.available).order_by(Book.name).limit(CHOICES))
    return {
        "user_choices": [(user_id, username) for user_id, username in users],
        "book_choices": [
            (book_id, name if available else f"{name} (out on loan)") for book_id, name, available in books
        ],
    }


def _user_id_asked(request: Request) -> int | None:
    """The renter the list is narrowed to (``?user_id=``, already checked by the listing)."""
    raw = request.GET.get("user_id")
    return int(raw) if raw else None


@console_view(
    "rentals.console.rentals",
    template=TEMPLATES + "rentals.jinja2",
    permission=STAFF,
    request_method=("GET", "POST"),
)
def rentals(request: Request) -> Any:
    """Everyone's rentals (search, filters, the voided ones), a renter's balances, and recording a rental."""
    form = Form(request, RentalIn)
    if form.submitted:
        try:
            body = RentalIn.model_validate(_read_as_utc(form.values(), "rented_at"))
            rental = services.rent_book(
                request.db, request.identity, body.book_id, user_id=body.user_id, rented_at=body.rented_at
            )
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"{rental.book.name} recorded as rented to {rental.user.username}")
            return HTTPSeeOther(request.route_url("rentals.console.rentals"))
    now = utcnow()
    query = services.rentals_listing.parse(request)
    renter_id = _user_id_asked(request)
    renter = request.db.get(User, renter_id) if renter_id is not None else None
    return {
        **_common(request),
        **_choices(request),
        "form": form,
        "page": _rows(query.page(services.visible_rentals(request.db, request.identity, **query.arguments)), now),
        "voided": query.arguments["voided"],
        "search": request.GET.get("search", ""),
        "open": request.GET.get("open", ""),
        "renter": renter,
        "balances": services.balances(request.db, request.identity, renter.id, now=now) if renter else None,
    }


@console_view(
    "rentals.console.rental",
    template=TEMPLATES + "rental.jinja2",
    permission=STAFF,
    request_method=("GET", "POST"),
)
def rental(request: Request) -> Any:
    """One rental: correct its dates (staff)."""
    db, caller, rental_id = request.db, request.identity, int(request.matchdict["id"])
    shown = services.get_rental(db, caller, rental_id)
    initial = {"rented_at": input_time(shown.rented_at), "returned_at": input_time(shown.returned_at)}
    form = Form(request, RentalPatch, initial=initial)
    if form.submitted:
        # Only what was changed is sent: the inputs show seconds, the records keep microseconds.
        values = {name: value for name, value in form.values().items() if value != initial.get(name)}
        if "still_out" in request.POST:
            values["returned_at"] = None
        try:
            body = RentalPatch.model_validate(_read_as_utc(values, "rented_at", "returned_at"))
            services.change_rental(db, caller, rental_id, body.changes())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Rental of {shown.book.name} corrected")
            return HTTPSeeOther(request.route_url("rentals.console.rental", id=rental_id))
    return {**_common(request), "form": form, "row": _priced_everywhere(shown, utcnow())}


@console_view(
    "rentals.console.void",
    template=TEMPLATES + "void.jinja2",
    permission=STAFF,
    request_method=("GET", "POST"),
)
def void(request: Request) -> Any:
    """Void a rental recorded by mistake (staff), with the reason."""
    db, caller, rental_id = request.db, request.identity, int(request.matchdict["id"])
    shown = services.get_rental(db, caller, rental_id)
    form = Form(request, VoidQuery)
    if form.submitted:
        try:
            services.void_rental(db, caller, rental_id, form.validate().reason)
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Rental of {shown.book.name} to {shown.user.username} voided")
            return HTTPSeeOther(request.route_url("rentals.console.rentals"))
    return {**_common(request), "form": form, "row": _priced_everywhere(shown, utcnow())}
