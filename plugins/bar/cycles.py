"""Bar cycles: opening the bar, closing it, and what happened in between."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from pyramidion.api import Conflict, money
from pyramidion.db import utcnow

from .models import Cycle, LedgerEntry, LedgerKind, PaymentMethod, Personnel, Purchase, Report, ReportAction
from .schemas import ReportIn


def record_report(db: Any, personnel: Personnel, body: ReportIn) -> Cycle:
    """Open a new cycle or close the open one with this count of the till; 409 if the bar is not in that state."""
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


def cycle_totals(db: Any, cycle: Cycle) -> dict[str, Any]:
    """Sales per payment method, the cash expected in the till, and what the counts differ by."""
    opening, closing = cycle.opening_report, cycle.closing_report
    since = opening.created_at
    until = closing.created_at if closing is not None else utcnow()
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
    cash_top_ups = money(cash_moves.get(LedgerKind.top_up) or 0)
    cash_refunds = -money(cash_moves.get(LedgerKind.refund) or 0)
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


def cycle_out(db: Any, cycle: Cycle) -> dict[str, Any]:
    return {
        "id": cycle.id,
        "is_open": bool(cycle.is_open),
        "opening_report": cycle.opening_report,
        "closing_report": cycle.closing_report,
        "totals": cycle_totals(db, cycle),
    }
