"""Opening and closing the bar, its cycles, and the revenue overview."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from sqlalchemy import select

from pyramidion.api import Filter, Listing, Page, api_view

from ..access import MANAGE, SELL, acting_personnel, get_or_404
from ..cycles import cycle_out, record_report
from ..models import Cycle, Report, ReportAction
from ..overview import XLSX, overview_workbook, revenue_overview
from ..schemas import CycleOut, CycleSummary, OverviewOut, OverviewQuery, ReportIn, ReportOut


@api_view(
    "bar.reports",
    request_method="POST",
    body=ReportIn,
    response=CycleOut,
    status=201,
    permission=SELL,
    responses={409: "Opening an open bar, or closing a closed one"},
)
def report(request: Any, body: ReportIn) -> dict[str, Any]:
    """Open or close the bar with a count of the till and the flow meters (active bar personnel).

    Opening starts a cycle; closing ends the open one. The answer is the cycle
    with its totals.
    """
    cycle = record_report(request.db, acting_personnel(request), body)
    return cycle_out(request.db, cycle)


reports = Listing(
    key=Report.id,
    ordering={"id": Report.id, "created_at": Report.created_at},
    default_ordering="-created_at",
    filters={"action": Filter(Report.action, ReportAction)},
)


@api_view("bar.reports", query=reports, response=Page[ReportOut], permission=SELL)
def list_reports(request: Any, query: Any) -> dict[str, Any]:
    """Till counts, newest first."""
    return query.page(select(Report))


cycles = Listing(key=Cycle.id, ordering={"id": Cycle.id}, default_ordering="-id")


@api_view("bar.cycles", query=cycles, response=Page[CycleSummary], permission=SELL)
def list_cycles(request: Any, query: Any) -> dict[str, Any]:
    """Bar cycles, newest first, with their opening and closing reports."""
    return query.page(select(Cycle))


@api_view("bar.cycles.current", response=CycleOut, permission=SELL, responses={404: "The bar is closed"})
def current_cycle(request: Any) -> dict[str, Any]:
    """The open cycle with its running totals; 404 when the bar is closed."""
    cycle = request.db.scalar(select(Cycle).where(Cycle.is_open.is_(True)))
    if cycle is None:
        raise HTTPNotFound("the bar is closed")
    return cycle_out(request.db, cycle)


@api_view("bar.cycle", response=CycleOut, permission=SELL)
def get_cycle(request: Any) -> dict[str, Any]:
    """One cycle with sales per payment method, cash difference and flow-meter differences."""
    return cycle_out(request.db, get_or_404(request, Cycle, what="cycle"))


@api_view("bar.overview", query=OverviewQuery, response=OverviewOut, permission=MANAGE)
def overview(request: Any, query: OverviewQuery) -> dict[str, Any]:
    """Revenue by category and payment method per day or month (bar managers); default the last 30 days."""
    return revenue_overview(request, query)


@api_view("bar.overview.xlsx", query=OverviewQuery, permission=MANAGE, content_type=XLSX)
def overview_xlsx(request: Any, query: OverviewQuery) -> Response:
    """The revenue overview as an Excel workbook (bar managers)."""
    data = revenue_overview(request, query)
    return Response(
        body=overview_workbook(data),
        content_type=XLSX,
        content_disposition=f'attachment; filename="bar-revenue-{data["start"]}-{data["end"]}.xlsx"',
    )
