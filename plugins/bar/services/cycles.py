"""Bar cycles: opening the bar, counting the till while it is open, closing it, and what happened in between.

A cycle runs from its opening report to its closing report; the sales,
top-ups and middle counts of a cycle are those made in that time (only one
cycle can be open at a time, so the window is the cycle's).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, select, update

from pyramidion.api import Conflict, get_or_404, money
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from ..models import Cycle, LedgerEntry, LedgerKind, PaymentMethod, Purchase, Report, ReportAction
from ..schemas import ReportIn
from .access import SELL, acting_personnel, require


def _open_cycle(db: Any) -> Cycle | None:
    return db.scalar(select(Cycle).where(Cycle.is_open.is_(True)))


def record_report(db: Any, caller: Identity, body: ReportIn) -> Cycle:
    """Count the till (active bar personnel): opening starts a cycle, middle counts it, closing ends it.

    409 when the bar is not in the state the action needs (opening an open
    bar; a middle count or closing while it is closed).
    """
    require(db, caller, SELL)
    personnel = acting_personnel(db, caller)
    report = Report(personnel_id=personnel.id, **body.model_dump())
    db.add(report)
    db.flush()
    if body.action is ReportAction.open:
        if db.scalar(select(Cycle.id).where(Cycle.is_open.is_(True))) is not None:
            raise Conflict("the bar is already open; close it first")
        cycle = Cycle(opening_report_id=report.id, is_open=True)
        db.add(cycle)
        db.flush()
        return cycle
    if body.action is ReportAction.middle:
        cycle = _open_cycle(db)
        if cycle is None:
            raise Conflict("the bar is not open")
        return cycle
    closed = db.execute(
        update(Cycle)
        .where(Cycle.is_open.is_(True))
        .values(closing_report_id=report.id, is_open=None)
        .returning(Cycle.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if closed is None:
        raise Conflict("the bar is not open")
    return db.get(Cycle, closed, populate_existing=True)


def reports(db: Any, caller: Identity) -> Any:
    """Till counts (bar personnel), for a listing to page."""
    require(db, caller, SELL)
    return select(Report)


def cycles(db: Any, caller: Identity) -> Any:
    """Bar cycles (bar personnel), for a listing to page."""
    require(db, caller, SELL)
    return select(Cycle)


def current_cycle(db: Any, caller: Identity) -> Cycle:
    """The open cycle; 404 when the bar is closed."""
    require(db, caller, SELL)
    cycle = _open_cycle(db)
    if cycle is None:
        raise HTTPNotFound("the bar is closed")
    return cycle


def get_cycle(db: Any, caller: Identity, cycle_id: Any) -> Cycle:
    require(db, caller, SELL)
    return get_or_404(db, Cycle, cycle_id, what="cycle")


def _expected_cash(
    db: Any, opening: Report, until: dt.datetime
) -> tuple[dict[PaymentMethod, Decimal], Decimal, Decimal]:
    """Sales per method, cash top-ups and cash refunds from the opening until ``until``."""
    since = opening.created_at
    sales = {method: Decimal("0.00") for method in PaymentMethod}
    for method, total in db.execute(
        select(Purchase.payment_method, func.sum(Purchase.total))
        .where(Purchase.created_at >= since, Purchase.created_at < until)
        .group_by(Purchase.payment_method)
    ):
        sales[method] = money(total)
    cash_moves = dict(
        db.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.method == PaymentMethod.cash,
                LedgerEntry.kind.in_([LedgerKind.top_up, LedgerKind.refund]),
                LedgerEntry.created_at >= since,
                LedgerEntry.created_at < until,
            )
            .group_by(LedgerEntry.kind)
        ).all()
    )
    return sales, money(cash_moves.get(LedgerKind.top_up) or 0), -money(cash_moves.get(LedgerKind.refund) or 0)


def _count(db: Any, opening: Report, report: Report) -> dict[str, Any]:
    """A middle count beside what the till should have held at that moment."""
    sales, top_ups, refunds = _expected_cash(db, opening, report.created_at)
    expected = opening.cash + sales[PaymentMethod.cash] + top_ups - refunds
    return {
        "report": report,
        "expected_cash": expected,
        "cash_difference": report.cash - expected,
        "flow_meter_1_difference": report.flow_meter_1 - opening.flow_meter_1,
        "flow_meter_2_difference": report.flow_meter_2 - opening.flow_meter_2,
    }


def cycle_totals(db: Any, cycle: Cycle) -> dict[str, Any]:
    """Sales per payment method, the cash expected in the till, and what the counts differ by."""
    opening, closing = cycle.opening_report, cycle.closing_report
    until = closing.created_at if closing is not None else utcnow()
    sales, cash_top_ups, cash_refunds = _expected_cash(db, opening, until)
    expected = opening.cash + sales[PaymentMethod.cash] + cash_top_ups - cash_refunds
    return {
        "sales": sales,
        "total_sales": sum(sales.values(), Decimal("0.00")),
        "cash_top_ups": cash_top_ups,
        "cash_refunds": cash_refunds,
        "expected_cash": expected,
        "cash_difference": None if closing is None else closing.cash - expected,
        "flow_meter_1_difference": None if closing is None else closing.flow_meter_1 - opening.flow_meter_1,
        "flow_meter_2_difference": None if closing is None else closing.flow_meter_2 - opening.flow_meter_2,
    }


def cycle_report(db: Any, cycle: Cycle) -> dict[str, Any]:
    """The cycle with its counts (opening, middle, closing) and totals, as the API and the console show it."""
    opening, closing = cycle.opening_report, cycle.closing_report
    middle = select(Report).where(Report.action == ReportAction.middle, Report.created_at >= opening.created_at)
    if closing is not None:
        middle = middle.where(Report.created_at <= closing.created_at)
    return {
        "id": cycle.id,
        "is_open": bool(cycle.is_open),
        "opening_report": opening,
        "middle_counts": [_count(db, opening, report) for report in db.scalars(middle.order_by(Report.id))],
        "closing_report": closing,
        "totals": cycle_totals(db, cycle),
    }
