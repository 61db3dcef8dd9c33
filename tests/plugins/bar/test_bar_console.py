"""The bar's console pages through WebTest: what each shows, who may open it, CSRF, and that they use the API's rules."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from pyramidion.auth import User
from pyramidion_bar.models import Card

PAGES = {
    "/console/bar/": "bar.sell",
    "/console/bar/wallets": "bar.top_up",
    "/console/bar/counts": "bar.sell",
    "/console/bar/revenue": "bar.manage",
    "/console/bar/events": "bar.member",
}


def count(action, cash, meter="0"):
    return {"action": action, "cash": cash, "flow_meter_1": meter, "flow_meter_2": "0"}


@pytest.fixture
def barkeeper(bar, make_user, console_session):
    """A logged-in console session of active personnel with every bar permission; returns the CSRF token."""
    bar.staff("keeper")
    return console_session("keeper")


@pytest.mark.parametrize("path", [*PAGES, "/console/bar/cycles/1", "/console/bar/events/1"])
def test_anonymous_visitors_are_sent_to_the_login(app, path):
    response = app.get(path, status=302)
    assert "/console/login" in response.headers["Location"]


@pytest.mark.parametrize(("path", "permission"), PAGES.items())
def test_each_page_needs_the_permission_its_api_needs(app, make_user, console_session, path, permission):
    make_user("outsider", permissions=("bar.nothing",))
    console_session("outsider")
    forbidden = app.get(path, status=403)
    assert permission in forbidden.text


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_opens_for_staff(app, bar, barkeeper, path):
    page = app.get(path, status=200)
    assert page.content_type == "text/html"
    assert page.html.select_one("h1").text


@pytest.mark.parametrize("path", ["/console/bar/", "/console/bar/wallets?holder=1", "/console/bar/counts", "EVENT"])
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(app, bar, barkeeper, path):
    holder, _ = bar.member("ann", "5.00")
    cola = bar.product("Cola", "1.80")
    event = bar.event()
    path = path.replace("EVENT", f"/console/bar/events/{event}").replace("holder=1", f"holder={holder}")
    form = {"payment_method": "wallet", "holder_id": holder, f"quantity-{cola}": "1", "amount": "5.00"}
    form.update(method="cash", kind="refund", action="open", cash="1", flow_meter_1="0", flow_meter_2="0")
    app.post(path, form, status=403)
    assert bar.balance(holder) == Decimal("5.00")
    assert "closed" in app.get("/console/bar/counts").html.select_one("#bar-state").text


def test_the_menu_shows_only_what_the_user_may_open(app, bar, make_user, console_session):
    make_user("member", permissions=("bar.member",))
    console_session("member")
    home = app.get("/console/")
    assert "Bar events" in home.text
    assert "Till" not in home.text and "Revenue" not in home.text


def sale_form(csrf, method, quantities, holder=None):
    form = {"csrf_token": csrf, "payment_method": method}
    form.update({f"quantity-{product}": quantity for product, quantity in quantities.items()})
    if holder is not None:
        form["holder_id"] = holder
    return form


def test_a_wallet_sale_at_the_till_shows_the_balance_after_it(app, bar, barkeeper, in_transaction):
    holder, _ = bar.member("ann", "10.00")
    beer = bar.product("Beer", "2.20")

    found = app.get("/console/bar/", {"buyer": "ann"})
    assert "ann" in found.text and "10.00" in found.text
    sold = app.post("/console/bar/", sale_form(barkeeper, "wallet", {beer: 2}, holder), status=303).follow()
    assert sold.html.select_one("#bar-balance-after").text == "5.60"
    assert "2 × Beer" in sold.text
    assert bar.balance(holder) == Decimal("5.60")


def test_a_buyer_is_found_by_nfc_card_id(app, bar, barkeeper, in_transaction):
    holder, _ = bar.member("ann", "3.00")
    in_transaction(lambda db: db.add(Card(card_id="04:A2:2B:1A", holder_id=holder)))
    page = app.get("/console/bar/", {"buyer": "04:A2:2B:1A"})
    assert page.html.select_one("#bar-buyer-balance").text == "3.00"
    assert page.html.select_one("input[name=holder_id]")["value"] == str(holder)

    def name_ann(db):
        user = db.query(User).filter_by(username="ann").one()
        user.first_name, user.last_name = "Ann", "de Vries"

    in_transaction(name_ann)
    by_name = app.get("/console/bar/", {"buyer": "de vries"})
    assert "Ann de Vries" in by_name.html.select_one("#bar-buyer").text
    assert "No wallet found" in app.get("/console/bar/", {"buyer": "nobody"}).text


def test_a_sale_the_wallet_cannot_pay_is_refused_plainly_and_changes_nothing(app, bar, barkeeper):
    holder, _ = bar.member("sem", "1.50")
    beer = bar.product("Beer", "2.20", stock="Keg")

    refused = app.post("/console/bar/", sale_form(barkeeper, "wallet", {beer: 1}, holder), status=409)
    assert refused.html.select_one("#bar-refusal").text.strip() == (
        "Refused: sem's wallet holds 1.50, this order costs 2.20. Nothing was sold."
    )
    assert bar.balance(holder) == Decimal("1.50")
    assert app.get("/api/bar/purchases", headers={"X-CSRF-Token": barkeeper}).json["count"] == 0

    nothing = app.post("/console/bar/", sale_form(barkeeper, "cash", {beer: 0}), status=422)
    assert "Choose at least one product" in nothing.html.select_one("#bar-refusal").text
    app.post("/console/bar/", sale_form(barkeeper, "wallet", {beer: 1}), status=422)  # no buyer


def test_cash_sales_need_no_buyer(app, bar, barkeeper):
    cola = bar.product("Cola", "1.80")
    sold = app.post("/console/bar/", sale_form(barkeeper, "cash", {cola: 3}), status=303).follow()
    assert "5.40" in sold.html.select_one("#bar-sold").text
    assert sold.html.select_one("#bar-balance-after") is None


def test_inactive_personnel_cannot_sell_from_the_till(app, bar, console_session):
    bar.staff("retired", active=False)
    csrf = console_session("retired")
    cola = bar.product("Cola", "1.80")
    refused = app.post("/console/bar/", sale_form(csrf, "cash", {cola: 1}), status=403)
    assert "only active bar personnel" in refused.text


def test_top_ups_and_refunds_at_the_bar(app, bar, barkeeper):
    holder, _ = bar.member("ann", "0.00")
    page = app.get("/console/bar/wallets", {"q": "ann"})
    assert f"holder={holder}" in page.text

    form = {"csrf_token": barkeeper, "amount": "20.00", "method": "cash", "comment": "", "kind": "top_up"}
    done = app.post(f"/console/bar/wallets?holder={holder}", form, status=303).follow()
    assert "balance now 20.00" in done.text
    assert done.html.select_one("#bar-wallet-balance").text == "20.00"

    too_much = {**form, "amount": "25.00", "kind": "refund"}
    refused = app.post(f"/console/bar/wallets?holder={holder}", too_much, status=409)
    assert refused.html.select_one(".form-errors").text.strip() == (
        "Refused: ann's wallet holds 20.00; refunding 25.00 would take it below the minimum."
    )
    bad = app.post(f"/console/bar/wallets?holder={holder}", {**form, "amount": "-1"}, status=422)
    assert bad.html.select_one("[aria-invalid=true]")["name"] == "amount"
    app.post(f"/console/bar/wallets?holder={holder}", {**form, "amount": "5.00", "kind": "refund"}, status=303)
    unchosen = app.post("/console/bar/wallets", form, status=422)
    assert "Find the wallet first." in unchosen.html.select_one(".form-errors").text
    assert bar.balance(holder) == Decimal("15.00")


def test_opening_middle_and_closing_counts_and_the_cycle_report(app, bar, barkeeper):
    cola = bar.product("Cola", "2.00")

    def post(action, cash, meter="0"):
        return app.post("/console/bar/counts", {"csrf_token": barkeeper, **count(action, cash, meter)}, status="*")

    refused = post("middle", "1.00")
    assert refused.status_int == 409 and "The bar is not open" in refused.text
    opened = post("open", "100.00", "10").follow()
    assert "Cycle" in opened.html.select_one("h1").text
    app.post("/console/bar/", sale_form(barkeeper, "cash", {cola: 2}), status=303)
    middle = post("middle", "103.00", "11").follow()
    row = middle.html.select_one("tr.bar-middle").text
    assert "103.00" in row and "104.00" in row and "-1.00" in row
    counts = app.get("/console/bar/counts")
    assert "open" in counts.html.select_one("#bar-state").text
    closed = post("close", "104.00", "12").follow()
    assert "Closing" in closed.text and "Middle" in closed.text
    assert "closed" in app.get("/console/bar/counts").html.select_one("#bar-state").text
    assert post("close", "1.00").status_int == 409


def test_the_revenue_page_draws_charts_and_links_the_xlsx(app, bar, barkeeper):
    holder, _ = bar.member("ann", "10.00")
    beer = bar.product("Beer", "2.20")
    app.post("/console/bar/", sale_form(barkeeper, "wallet", {beer: 2}, holder), status=303)
    app.post("/console/bar/", sale_form(barkeeper, "cash", {beer: 1}), status=303)

    page = app.get("/console/bar/revenue")
    by_method = page.html.select("#bar-chart-method rect.bar-segment")
    assert sorted(rect.select_one("title").text.split(": ")[1] for rect in by_method) == ["2.20", "4.40"]
    assert page.html.select("#bar-chart-category rect.bar-segment")
    xlsx = page.html.select_one("a[download]")["href"]
    download = app.get(xlsx)
    assert download.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    monthly = app.get("/console/bar/revenue", {"period": "month"})
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert today[:7] in monthly.text
    wrong = app.get("/console/bar/revenue", {"start": "2026-02-01", "end": "2026-01-01"}, status=422)
    assert wrong.html.select_one("#bar-start-error").text == "Must not be after end"


def test_events_registration_and_the_charge_run_report(app, bar, console_session):
    bar.staff("manager")
    event = {"id": bar.event()}
    ann, _ = bar.member("ann", "30.00")
    bob, _ = bar.member("bob", "5.00")

    for member in ("ann", "bob"):
        csrf = console_session(member)
        assert "Beer tasting" in app.get("/console/bar/events").text
        registered = app.post(
            f"/console/bar/events/{event['id']}", {"csrf_token": csrf, "action": "register", "quantity": "1"}
        ).follow()
        assert "You are registered" in registered.text
        assert "Step out" in registered.text
        app.post("/console/logout", {"csrf_token": csrf}, status=303)

    csrf = console_session("manager")
    page = app.get(f"/console/bar/events/{event['id']}")
    assert "0 paid" in page.html.select_one("#bar-charge-report").text
    charged = app.post(f"/console/bar/events/{event['id']}", {"csrf_token": csrf, "action": "charge"}).follow()
    report = charged.html.select_one("#bar-charge-report").text
    assert re.search(r"1 paid · 1 could not pay · 0 not charged yet", report)
    assert "bob" in charged.text
    assert bar.balance(ann) == Decimal("17.50") and bar.balance(bob) == Decimal("5.00")
