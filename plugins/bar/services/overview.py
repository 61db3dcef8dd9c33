"""Revenue by category and payment method, per day or month, as data and as an .xlsx workbook.

Days and months are those of ``bar.time_zone``. The database sums sales per
UTC hour (the same SQL on SQLite and PostgreSQL, which share no time zone
functions); Python then files each hour under its local day or month. A
product in two categories counts in both; the totals per payment method
count every sale once.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pyramid.response import Response
from sqlalchemy import func, literal_column, select

from pyramidion.api import Invalid, money
from pyramidion.auth import Identity

from ..models import Category, PaymentMethod, Purchase, PurchaseLine, category_product
from ..schemas import OverviewQuery
from .access import MANAGE, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNCATEGORISED = "uncategorised"
DEFAULT_DAYS = 30
MAX_DAYS = 3660


def _utc_hour(db: Any, column: Any) -> Any:
    # Literal formats (not bound parameters) so SELECT and GROUP BY are the same expression.
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), literal_column("'YYYY-MM-DD\"T\"HH24'"))
    return func.strftime(literal_column("'%Y-%m-%dT%H'"), column)


def _range(query: OverviewQuery, zone: zoneinfo.ZoneInfo) -> tuple[dt.date, dt.date]:
    end = query.end or dt.datetime.now(zone).date()
    start = query.start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise Invalid.field("start", "must not be after end", "query")
    if (end - start).days > MAX_DAYS:
        raise Invalid.field("start", f"the range may span at most {MAX_DAYS} days", "query")
    return start, end


def revenue_overview(db: Any, caller: Identity, query: OverviewQuery, zone_name: str) -> dict[str, Any]:
    """Revenue per period, category and payment method, and per payment method in all (bar managers)."""
    require(db, caller, MANAGE)
    zone = zoneinfo.ZoneInfo(zone_name)
    start, end = _range(query, zone)
    since = dt.datetime.combine(start, dt.time(), zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
    in_range = (Purchase.created_at >= since, Purchase.created_at < until)

    hour = _utc_hour(db, Purchase.created_at).label("hour")
    category = func.coalesce(Category.name, UNCATEGORISED).label("category")
    rows = db.execute(
        select(
            hour,
            category,
            Purchase.payment_method,
            func.sum(PurchaseLine.quantity),
            func.sum(PurchaseLine.quantity * PurchaseLine.unit_price),
        )
        .join(Purchase, Purchase.id == PurchaseLine.purchase_id)
        .outerjoin(category_product, category_product.c.product_id == PurchaseLine.product_id)
        .outerjoin(Category, Category.id == category_product.c.category_id)
        .where(*in_range)
        .group_by(hour, category, Purchase.payment_method)
    )
    period_format = "%Y-%m-%d" if query.period == "day" else "%Y-%m"
    buckets: dict[tuple[str, str, PaymentMethod], list[Any]] = defaultdict(lambda: [0, Decimal("0")])
    for utc_hour, category_name, method, quantity, revenue in rows:
        local = dt.datetime.strptime(utc_hour, "%Y-%m-%dT%H").replace(tzinfo=dt.UTC).astimezone(zone)
        bucket = buckets[(local.strftime(period_format), category_name, method)]
        bucket[0] += int(quantity)
        bucket[1] += money(revenue)

    totals = {method: Decimal("0.00") for method in PaymentMethod}
    for method, total in db.execute(
        select(Purchase.payment_method, func.sum(Purchase.total)).where(*in_range).group_by(Purchase.payment_method)
    ):
        totals[method] = money(total)
    return {
        "start": start,
        "end": end,
        "period": query.period,
        "time_zone": zone_name,
        "rows": [
            {
                "period": period,
                "category": name,
                "payment_method": method,
                "quantity": quantity,
                "revenue": money(revenue),
            }
            for (period, name, method), (quantity, revenue) in sorted(
                buckets.items(), key=lambda item: (item[0][0], item[0][1], item[0][2].value)
            )
        ],
        "totals": totals,
    }


def overview_workbook(overview: dict[str, Any]) -> bytes:
    """The overview as an .xlsx file: one sheet of rows, one of totals."""
    # Imported on the first download: openpyxl would cost every web process ~8 MiB.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Revenue"
    sheet.append(
        [f"Revenue {overview['start']} to {overview['end']} per {overview['period']} ({overview['time_zone']})"]
    )
    sheet["A1"].font = Font(bold=True)
    sheet.append(["Period", "Category", "Payment method", "Quantity", "Revenue"])
    for row in overview["rows"]:
        sheet.append([row["period"], row["category"], row["payment_method"].value, row["quantity"], row["revenue"]])
        sheet.cell(row=sheet.max_row, column=5).number_format = "0.00"
    totals = book.create_sheet("Totals")
    totals.append(["Payment method", "Revenue"])
    for method, amount in overview["totals"].items():
        totals.append([method.value, amount])
        totals.cell(row=totals.max_row, column=2).number_format = "0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_response(overview: dict[str, Any]) -> Response:
    """The overview's workbook as a download named after its dates."""
    return Response(
        body=overview_workbook(overview),
        content_type=XLSX,
        content_disposition=f'attachment; filename="bar-revenue-{overview["start"]}-{overview["end"]}.xlsx"',
    )
