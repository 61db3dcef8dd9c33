"""The bar's console pages under ``/console/bar``: the till, wallets, till counts, revenue, events.

Each page calls the same services as the JSON API, with the same schemas,
so a rule or a permission is never checked twice in two ways. A refusal
(a wallet that cannot pay, a closed bar) is shown on the page with the
API's status, and the request's transaction is doomed: nothing changes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pyramid.httpexceptions import HTTPSeeOther

from pyramidion.api import APIError
from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.request import Request

from ..models import Cycle, Event, Holder, LedgerEntry, PaymentMethod, Product, ReportAction
from ..schemas import OverviewQuery, PurchaseIn, RegistrationIn, ReportIn, TopUpIn
from ..services import catalogue, cycles, events, holders, overview, sales
from ..services.access import MANAGE, MEMBER, SELL, TOP_UP, own_holder, visible_holder
from ..services.wallet import InsufficientBalance
from ..settings import bar_settings
from ..tasks import charge_event
from .charts import stacked_bars

TEMPLATES = "pyramidion_bar:console/templates/"
PAYMENT_COLOURS = {"wallet": "#0072b2", "cash": "#009e73", "pin": "#e69f00"}


def _minimum(request: Request) -> Decimal:
    return bar_settings(request.registry).wallet_minimum_balance


def _page(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    """A page's template values, with ``local(moment)``: a timestamp as the bar's clock reads it."""
    zone = zoneinfo.ZoneInfo(bar_settings(request.registry).time_zone)
    return {**values, "local": lambda moment, fmt="%Y-%m-%d %H:%M": moment.astimezone(zone).strftime(fmt)}


def _holder_name(holder: Holder) -> str:
    return holder.user.display_name


def _selected_holder(request: Request, key: str = "holder") -> Holder | None:
    raw = request.params.get(key, "").strip()
    if not raw.isdigit():
        return None
    return visible_holder(request.db, request.identity, raw)


# -- the till ------------------------------------------------------------------------


def _order(request: Request, products: list[Product]) -> dict[str, Any]:
    """The sale the till's form describes, in the API's shape (``PurchaseIn``)."""
    post = request.POST
    lines = []
    for product in products:
        raw = str(post.get(f"quantity-{product.id}", "")).strip() or "0"
        if raw != "0":
            lines.append({"product_id": product.id, "quantity": raw})
    order: dict[str, Any] = {"payment_method": post.get("payment_method", ""), "lines": lines}
    if str(post.get("holder_id", "")).strip():
        order["holder_id"] = post["holder_id"]
    return order


def _refusal(exc: Exception, holder: Holder | None) -> str:
    """What went wrong with a sale, in a sentence a volunteer reads at a glance."""
    if isinstance(exc, InsufficientBalance) and holder is not None:
        return (
            f"Refused: {_holder_name(holder)}'s wallet holds {holder.balance:.2f}, "
            f"this order costs {exc.amount:.2f}. Nothing was sold."
        )
    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            where = error["loc"][0] if error["loc"] else ""
            problems.append("Choose at least one product" if where == "lines" else f"{where}: {error['msg']}")
        return "Refused: " + "; ".join(problems) + "."
    if isinstance(exc, APIError):
        return f"Refused: {exc.message}."
    return f"Refused: {exc}."


@console_view("bar.console.till", template=TEMPLATES + "till.jinja2", permission=SELL, request_method=("GET", "POST"))
def till(request: Request) -> Any:
    """Sell: pick the buyer (NFC card id or name), tap products, pay from the wallet, in cash or by pin."""
    caller = request.identity
    groups = catalogue.till_products(request.db)
    on_sale = {product.id: product for _, group in groups for product in group}
    form = Form(request)
    refusal = None
    holder = _selected_holder(request, "holder_id" if form.submitted else "holder")
    if form.submitted:
        try:
            order = PurchaseIn.model_validate(_order(request, list(on_sale.values())))
            purchase = sales.sell(request.db, caller, order, _minimum(request))
        except FORM_ERRORS as exc:
            refusal = _refusal(exc, holder)
            form.fail(refusal, status=getattr(exc, "status", 422))
        else:
            target = request.route_url("bar.console.till", _query={"sold": purchase.id})
            return HTTPSeeOther(target)
    search = request.params.get("buyer", "").strip()
    found = holders.find_holders(request.db, caller, search) if search and holder is None else []
    if len(found) == 1 and holder is None:
        holder = found[0]
    sold = None
    if request.params.get("sold", "").isdigit():
        sold = sales.get_purchase(request.db, caller, request.params["sold"])
    sold_to = request.db.get(Holder, sold.holder_id) if sold is not None and sold.holder_id else None
    return _page(
        request,
        {
            "groups": groups,
            "holder": holder,
            "search": search,
            "found": found if len(found) != 1 else [],
            "refusal": refusal,
            "form": form,
            "sold": sold,
            "sold_to": sold_to,
            "methods": list(PaymentMethod),
        },
    )


# -- wallets: top-ups and refunds ----------------------------------------------------------


@console_view(
    "bar.console.wallets", template=TEMPLATES + "wallets.jinja2", permission=TOP_UP, request_method=("GET", "POST")
)
def wallets(request: Request) -> Any:
    """Top up or refund a wallet at the bar, in cash or by pin, and see its latest movements."""
    caller = request.identity
    form = Form(request, TopUpIn)
    holder = _selected_holder(request)
    if form.submitted and holder is None:
        form.fail("Find the wallet first.")
    elif form.submitted:
        refunding = request.POST.get("kind") == "refund"
        try:
            body = form.validate()
            if refunding:
                entry = holders.refund(request.db, caller, holder.id, body, _minimum(request))
            else:
                entry = holders.top_up(request.db, caller, holder.id, body)
        except InsufficientBalance as exc:
            form.fail(
                f"Refused: {_holder_name(holder)}'s wallet holds {holder.balance:.2f}; "
                f"refunding {exc.amount:.2f} would take it below the minimum.",
                status=exc.status,
            )
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            done = "Refunded" if refunding else "Topped up"
            flash(request, f"{done} {body.amount:.2f} ({body.method.value}): balance now {entry.balance_after:.2f}")
            return HTTPSeeOther(request.route_url("bar.console.wallets", _query={"holder": holder.id}))
    search = request.params.get("q", "").strip()
    found = holders.find_holders(request.db, caller, search) if search else []
    ledger = []
    if holder is not None:
        latest = holders.ledger_of(request.db, caller, holder.id).order_by(LedgerEntry.id.desc()).limit(10)
        ledger = list(request.db.scalars(latest))
    return _page(request, {"form": form, "holder": holder, "search": search, "found": found, "ledger": ledger})


# -- till counts and cycles ------------------------------------------------------------------


@console_view(
    "bar.console.counts", template=TEMPLATES + "counts.jinja2", permission=SELL, request_method=("GET", "POST")
)
def counts(request: Request) -> Any:
    """Open the bar, count the till while it is open, close it; the open cycle's report and the last cycles."""
    caller = request.identity
    form = Form(request, ReportIn)
    if form.submitted:
        try:
            cycle = cycles.record_report(request.db, caller, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            action = ReportAction(form.values()["action"])
            flash(
                request, {"open": "The bar is open", "middle": "Count recorded", "close": "The bar is closed"}[action]
            )
            return HTTPSeeOther(request.route_url("bar.console.cycle", id=cycle.id))
    current = request.db.scalar(cycles.cycles(request.db, caller).where(Cycle.is_open.is_(True)))
    recent = list(request.db.scalars(cycles.cycles(request.db, caller).order_by(Cycle.id.desc()).limit(10)))
    return _page(
        request,
        {
            "form": form,
            "report": cycles.cycle_report(request.db, current) if current is not None else None,
            "recent": recent,
        },
    )


@console_view("bar.console.cycle", template=TEMPLATES + "cycle.jinja2", permission=SELL)
def cycle(request: Request) -> Any:
    """One cycle's report: its counts (opening, middle, closing), sales and differences."""
    caller = request.identity
    found = cycles.get_cycle(request.db, caller, request.matchdict["id"])
    return _page(request, {"report": cycles.cycle_report(request.db, found)})


# -- revenue overview ---------------------------------------------------------------------------


def _series(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Decimal]]:
    series: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        name = row[key].value if isinstance(row[key], PaymentMethod) else row[key]
        series[name][row["period"]] += row["revenue"]
    return series


def _payment_series(rows: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    # A product in two categories is in two rows: count each sale once, per category row of the first one.
    series = _series(rows, "payment_method")
    return {method.value: series.get(method.value, {}) for method in PaymentMethod if method.value in series}


def _periods(start: dt.date, end: dt.date, period: str) -> list[str]:
    """Every day or month from ``start`` to ``end``, named as the overview names them (quiet ones too)."""
    if period == "month":
        months = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months
    return [(start + dt.timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)]


@console_view("bar.console.overview", template=TEMPLATES + "overview.jinja2", permission=MANAGE)
def revenue(request: Request) -> Any:
    """Revenue per day or month, by category and by payment method, as charts and a table, with the .xlsx."""
    caller = request.identity
    form = Form(request)
    params = {key: value for key, value in request.GET.items() if key in OverviewQuery.model_fields and value}
    try:
        query = OverviewQuery.model_validate(params)
        data = overview.revenue_overview(request.db, caller, query, bar_settings(request.registry).time_zone)
    except FORM_ERRORS as exc:
        form.fail(exc)
        query = OverviewQuery()
        data = overview.revenue_overview(request.db, caller, query, bar_settings(request.registry).time_zone)
    periods = _periods(data["start"], data["end"], data["period"])
    download = {"start": data["start"].isoformat(), "end": data["end"].isoformat(), "period": data["period"]}
    return _page(
        request,
        {
            "form": form,
            "overview": data,
            "by_category": stacked_bars(periods, _series(data["rows"], "category")),
            "by_method": stacked_bars(periods, _payment_series(data["rows"]), PAYMENT_COLOURS),
            "xlsx_url": request.route_url("bar.overview.xlsx", _query=download),
        },
    )


# -- events ---------------------------------------------------------------------------------------


@console_view("bar.console.events", template=TEMPLATES + "events.jinja2", permission=MEMBER)
def event_list(request: Request) -> Any:
    """Events, latest first, with the places taken."""
    found = list(request.db.scalars(events.events().order_by(Event.starts_at.desc()).limit(50)))
    return _page(request, {"events": found})


@console_view(
    "bar.console.event", template=TEMPLATES + "event.jinja2", permission=MEMBER, request_method=("GET", "POST")
)
def event(request: Request) -> Any:
    """One event: register or step out; for managers the registrations, the charge run and its report."""
    caller = request.identity
    event_id = request.matchdict["id"]
    found = events.get_event(request.db, event_id)
    form = Form(request, RegistrationIn)
    if form.submitted:
        action = request.POST.get("action")
        try:
            if action == "charge":
                events.may_charge(request.db, caller, found.id)
                request.task(charge_event)(found.id)
                message = "Charge run started: the report below fills in as it goes"
            elif action == "unregister":
                events.unregister(request.db, caller, found.id)
                message = "You are no longer registered"
            else:
                events.register(request.db, caller, found.id, form.validate())
                message = "You are registered"
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, message)
            return HTTPSeeOther(request.route_url("bar.console.event", id=found.id))
    request.db.refresh(found)
    registrations = list(request.db.scalars(events.registrations(request.db, caller, found.id)))
    mine = own_holder(request.db, caller)
    return _page(
        request,
        {
            "event": found,
            "form": form,
            "registrations": registrations,
            "registered": mine is not None and any(r.holder_id == mine.id for r in registrations),
            "has_wallet": mine is not None,
            "report": events.charge_report(request.db, caller, found.id) if caller.holds(request.db, MANAGE) else None,
        },
    )
