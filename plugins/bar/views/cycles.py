"""Counting the till (opening, middle, closing), its cycles, and the revenue overview."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response

from pyramidion.api import Filter, Listing, Page, api_view
from pyramidion.request import Request

from ..models import Cycle, Report, ReportAction
from ..schemas import CycleOut, CycleSummary, OverviewOut, OverviewQuery, ReportIn, ReportOut
from ..services import cycles, overview
from ..services.access import MANAGE, SELL
from ..settings import bar_settings


@api_view(
    "bar.reports",
    request_method="POST",
    body=ReportIn,
    response=CycleOut,
    status=201,
    permission=SELL,
    responses={409: "Opening an open bar, or counting or closing a closed one"},
)
def report(request: Request, body: ReportIn) -> dict[str, Any]:
    """Count the till and the flow meters (active bar personnel): open, middle or close.

    Opening starts a cycle; a middle count is compared with what the till
    should hold; closing ends the open cycle. The answer is the cycle with its
    counts and totals.
    """
    cycle = cycles.record_report(request.db, request.identity, body)
    return cycles.cycle_report(request.db, cycle)


report_listing = Listing(
    key=Report.id,
    ordering={"id": Report.id, "created_at": Report.created_at},
    default_ordering="-created_at",
    filters={"action": Filter(Report.action, ReportAction)},
)


@api_view("bar.reports", query=report_listing, response=Page[ReportOut], permission=SELL)
def list_reports(request: Request, query: Any) -> dict[str, Any]:
    """Till counts, newest first."""
    return query.page(cycles.reports(request.db, request.identity))


cycle_listing = Listing(key=Cycle.id, ordering={"id": Cycle.id}, default_ordering="-id")


@api_view("bar.cycles", query=cycle_listing, response=Page[CycleSummary], permission=SELL)
def list_cycles(request: Request, query: Any) -> dict[str, Any]:
    """Bar cycles, newest first, with their opening and closing reports."""
    return query.page(cycles.cycles(request.db, request.identity))


@api_view("bar.cycles.current", response=CycleOut, permission=SELL, responses={404: "The bar is closed"})
def current_cycle(request: Request) -> dict[str, Any]:
    """The open cycle with its running totals; 404 when the bar is closed."""
    return cycles.cycle_report(request.db, cycles.current_cycle(request.db, request.identity))


@api_view("bar.cycle", response=CycleOut, permission=SELL)
def get_cycle(request: Request) -> dict[str, Any]:
    """One cycle with its counts, sales per payment method, cash difference and flow-meter differences."""
    return cycles.cycle_report(request.db, cycles.get_cycle(request.db, request.identity, request.matchdict["id"]))


def _overview(request: Request, query: OverviewQuery) -> dict[str, Any]:
    return overview.revenue_overview(request.db, request.identity, query, bar_settings(request.registry).time_zone)


@api_view("bar.overview", query=OverviewQuery, response=OverviewOut, permission=MANAGE)
def revenue(request: Request, query: OverviewQuery) -> dict[str, Any]:
    """Revenue by category and payment method per day or month (bar managers); default the last 30 days."""
    return _overview(request, query)


@api_view("bar.overview.xlsx", query=OverviewQuery, permission=MANAGE, content_type=overview.XLSX)
def revenue_xlsx(request: Request, query: OverviewQuery) -> Response:
    """The revenue overview as an Excel workbook (bar managers)."""
    return overview.workbook_response(_overview(request, query))
