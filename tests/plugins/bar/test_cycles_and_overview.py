"""Opening and closing the bar, cycle totals, and the revenue overview with its .xlsx export."""

import datetime as dt
import io

from openpyxl import load_workbook


def count(action, cash, meter_1="0", meter_2="0"):
    return {"action": action, "cash": cash, "flow_meter_1": meter_1, "flow_meter_2": meter_2, "comment": ""}


def sell(app, staff, method, product, quantity, holder=None):
    body = {"payment_method": method, "lines": [{"product_id": product, "quantity": quantity}]}
    if holder is not None:
        body["holder_id"] = holder
    app.post_json("/api/bar/purchases", body, headers=staff, status=201)


def test_a_cycle_reports_sales_cash_difference_and_flow_meters(app, bar):
    staff = bar.staff()
    holder, _ = bar.member("ann", "20.00")
    beer = bar.product("Beer", "2.00")
    app.get("/api/bar/cycles/current", headers=staff, status=404)

    opened = app.post_json("/api/bar/reports", count("open", "100.00", "1000.5", "20"), headers=staff, status=201).json
    assert opened["is_open"] is True
    app.post_json("/api/bar/reports", count("open", "100.00"), headers=staff, status=409)

    sell(app, staff, "cash", beer, 3)
    sell(app, staff, "pin", beer, 1)
    sell(app, staff, "wallet", beer, 2, holder)
    app.post_json(
        f"/api/bar/holders/{holder}/top-ups", {"amount": "10.00", "method": "cash"}, headers=staff, status=201
    )
    app.post_json(f"/api/bar/holders/{holder}/refunds", {"amount": "4.00", "method": "cash"}, headers=staff, status=201)

    running = app.get("/api/bar/cycles/current", headers=staff).json["totals"]
    assert running["sales"] == {"wallet": "4.00", "cash": "6.00", "pin": "2.00"}
    assert running["total_sales"] == "12.00"
    assert running["expected_cash"] == "112.00"  # 100 + 6 sales + 10 top-up - 4 refund
    assert running["cash_difference"] is None

    closed = app.post_json("/api/bar/reports", count("close", "111.50", "1012.5", "20"), headers=staff, status=201).json
    totals = closed["totals"]
    assert closed["is_open"] is False
    assert (totals["cash_difference"], totals["flow_meter_1_difference"], totals["flow_meter_2_difference"]) == (
        "-0.50",
        "12.000",
        "0.000",
    )
    app.post_json("/api/bar/reports", count("close", "0"), headers=staff, status=409)
    assert app.get(f"/api/bar/cycles/{closed['id']}", headers=staff).json["totals"] == totals
    assert [c["id"] for c in app.get("/api/bar/cycles", headers=staff).json["results"]] == [closed["id"]]

    # After closing, a new cycle starts from zero.
    reopened = app.post_json("/api/bar/reports", count("open", "111.50"), headers=staff, status=201).json
    assert reopened["totals"]["total_sales"] == "0.00"


def test_revenue_overview_by_category_and_payment_method_with_xlsx(app, bar, in_transaction):
    manager = bar.staff("manager")
    holder, member = bar.member("ann", "50.00")
    drinks = app.post_json("/api/bar/categories", {"name": "Drinks"}, headers=manager, status=201).json["id"]
    beer = app.post_json(
        "/api/bar/products", {"name": "Beer", "price": "2.20", "category_ids": [drinks]}, headers=manager, status=201
    ).json["id"]
    crisps = bar.product("Crisps", "1.00")
    sell(app, manager, "wallet", beer, 2, holder)
    sell(app, manager, "cash", beer, 1)
    sell(app, manager, "cash", crisps, 3)
    today = dt.datetime.now(dt.UTC).date().isoformat()

    overview = app.get(f"/api/bar/overview?start={today}&end={today}", headers=manager).json
    assert [
        (r["period"], r["category"], r["payment_method"], r["quantity"], r["revenue"]) for r in overview["rows"]
    ] == [
        (today, "Drinks", "cash", 1, "2.20"),
        (today, "Drinks", "wallet", 2, "4.40"),
        (today, "uncategorised", "cash", 3, "3.00"),
    ]
    assert overview["totals"] == {"wallet": "4.40", "cash": "5.20", "pin": "0.00"}
    monthly = app.get("/api/bar/overview?period=month", headers=manager).json
    assert {r["period"] for r in monthly["rows"]} == {today[:7]}

    download = app.get(f"/api/bar/overview.xlsx?start={today}&end={today}", headers=manager)
    assert download.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in download.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(download.body))
    rows = list(book["Revenue"].iter_rows(min_row=3, values_only=True))
    assert rows[0][:4] == (today, "Drinks", "cash", 1) and float(rows[0][4]) == 2.2
    assert len(rows) == 3
    assert [r[0] for r in book["Totals"].iter_rows(min_row=2, values_only=True)] == ["wallet", "cash", "pin"]

    app.get("/api/bar/overview?start=2026-02-01&end=2026-01-01", headers=manager, status=422)
    app.get("/api/bar/overview?period=year", headers=manager, status=422)
    app.get("/api/bar/overview", headers=member, status=403)


def test_a_middle_count_is_compared_with_what_the_till_should_hold_and_shown_in_the_cycle(app, bar):
    staff = bar.staff()
    beer = bar.product("Beer", "2.00")
    app.post_json("/api/bar/reports", count("middle", "10.00"), headers=staff, status=409)  # the bar is closed

    app.post_json("/api/bar/reports", count("open", "50.00", "100", "7"), headers=staff, status=201)
    sell(app, staff, "cash", beer, 2)
    middle = app.post_json("/api/bar/reports", count("middle", "53.50", "101.5", "7"), headers=staff, status=201).json
    assert middle["is_open"] is True
    (counted,) = middle["middle_counts"]
    assert counted["report"]["action"] == "middle"
    assert (counted["expected_cash"], counted["cash_difference"]) == ("54.00", "-0.50")
    assert (counted["flow_meter_1_difference"], counted["flow_meter_2_difference"]) == ("1.500", "0.000")

    sell(app, staff, "cash", beer, 1)
    closed = app.post_json("/api/bar/reports", count("close", "56.00", "103", "7"), headers=staff, status=201).json
    assert [c["report"]["id"] for c in closed["middle_counts"]] == [counted["report"]["id"]]
    assert closed["totals"]["cash_difference"] == "0.00"
    assert app.get("/api/bar/reports?action=middle", headers=staff).json["count"] == 1

    # The next cycle starts without the last one's middle count.
    reopened = app.post_json("/api/bar/reports", count("open", "56.00"), headers=staff, status=201).json
    assert reopened["middle_counts"] == []
