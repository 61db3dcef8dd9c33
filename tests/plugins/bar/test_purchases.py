"""Selling: wallet, cash and pin purchases, prices fixed at sale, stock, who may see what."""

from decimal import Decimal

from sqlalchemy import func, select

from pyramidion_bar.models import Purchase, Stock


def sale(holder_id, *lines, method="wallet"):
    body = {"payment_method": method, "lines": [{"product_id": p, "quantity": q} for p, q in lines]}
    if holder_id is not None:
        body["holder_id"] = holder_id
    return body


def test_wallet_purchase_debits_the_wallet_books_the_ledger_and_takes_stock(app, bar, in_transaction):
    staff = bar.staff()
    holder, _ = bar.member("ann", "10.00")
    beer = bar.product("Beer", "2.20", units="0.25", stock="Keg")
    crisps = bar.product("Crisps", "1.00")

    bought = app.post_json("/api/bar/purchases", sale(holder, (beer, 2), (crisps, 1)), headers=staff, status=201).json

    assert bought["total"] == "5.40"
    assert bought["balance_after"] == "4.60"
    assert [(line["product_name"], line["quantity"], line["unit_price"]) for line in bought["lines"]] == [
        ("Beer", 2, "2.20"),
        ("Crisps", 1, "1.00"),
    ]
    assert bar.balance(holder) == Decimal("4.60")
    ledger = app.get(f"/api/bar/holders/{holder}/ledger", headers=staff).json["results"]
    assert [(e["kind"], e["amount"], e["purchase_id"]) for e in ledger] == [
        ("purchase", "-5.40", bought["id"]),
        ("top_up", "10.00", None),
    ]
    assert in_transaction(lambda db: db.scalar(select(Stock.quantity).where(Stock.name == "Keg"))) == Decimal("99.500")
    assert bar.ledger_ok()


def test_price_is_fixed_at_the_time_of_purchase(app, bar):
    staff = bar.staff()
    holder, member = bar.member("ann", "10.00")
    cola = bar.product("Cola", "1.80")
    bought = app.post_json("/api/bar/purchases", sale(holder, (cola, 1)), headers=staff, status=201).json

    app.patch_json(f"/api/bar/products/{cola}", {"price": "2.50"}, headers=staff)

    again = app.get(f"/api/bar/purchases/{bought['id']}", headers=member).json
    assert again["lines"][0]["unit_price"] == "1.80"
    assert again["total"] == "1.80"


def test_a_wallet_never_goes_below_the_minimum_and_a_refused_sale_changes_nothing(app, bar, in_transaction):
    staff = bar.staff()
    holder, _ = bar.member("ann", "2.00")
    beer = bar.product("Beer", "2.20", stock="Keg")

    refused = app.post_json("/api/bar/purchases", sale(holder, (beer, 1)), headers=staff, status=409).json
    assert "insufficient balance" in refused["error"]["message"]
    assert bar.balance(holder) == Decimal("2.00")
    assert in_transaction(lambda db: db.scalar(select(func.count()).select_from(Purchase))) == 0
    assert in_transaction(lambda db: db.scalar(select(Stock.quantity))) == Decimal("100")

    # Exactly down to the minimum is allowed.
    exact = bar.product("Crisps", "2.00")
    app.post_json("/api/bar/purchases", sale(holder, (exact, 1)), headers=staff, status=201)
    assert bar.balance(holder) == Decimal("0.00")


def test_a_configured_negative_minimum_lets_a_wallet_go_into_credit(make_app, bar):
    app = make_app(bar__wallet__minimum_balance="-5.00")
    staff = bar.staff()
    holder, _ = bar.member("ann", "1.00")
    beer = bar.product("Beer", "2.20")

    app.post_json("/api/bar/purchases", sale(holder, (beer, 2)), headers=staff, status=201)
    app.post_json("/api/bar/purchases", sale(holder, (beer, 1)), headers=staff, status=409)
    assert bar.balance(holder) == Decimal("-3.40")


def test_cash_and_pin_sales_need_no_wallet_and_leave_wallets_alone(app, bar):
    staff = bar.staff()
    holder, _ = bar.member("ann", "5.00")
    cola = bar.product("Cola", "1.80")

    cash = app.post_json("/api/bar/purchases", sale(None, (cola, 3), method="cash"), headers=staff, status=201).json
    pin = app.post_json("/api/bar/purchases", sale(holder, (cola, 1), method="pin"), headers=staff, status=201).json

    assert (cash["holder_id"], cash["total"], cash["balance_after"]) == (None, "5.40", None)
    assert (pin["holder_id"], pin["payment_method"]) == (holder, "pin")
    assert bar.balance(holder) == Decimal("5.00")


def test_bad_sales_are_refused_naming_the_field(app, bar):
    staff = bar.staff()
    holder, _ = bar.member("ann", "5.00")
    cola = bar.product("Cola", "1.80")

    no_wallet = app.post_json("/api/bar/purchases", sale(None, (cola, 1)), headers=staff, status=422).json
    assert no_wallet["error"]["details"][0]["field"] == "holder_id"
    unknown = app.post_json("/api/bar/purchases", sale(holder, (cola, 1), (9999, 1)), headers=staff, status=422).json
    assert [d["field"] for d in unknown["error"]["details"]] == ["lines.1.product_id"]
    two_methods = app.post_json(
        "/api/bar/purchases",
        {"payment_method": "cash+pin", "lines": [{"product_id": cola, "quantity": 1}]},
        headers=staff,
        status=422,
    ).json
    assert two_methods["error"]["details"][0]["field"] == "payment_method"
    nothing = app.post_json("/api/bar/purchases", sale(holder), headers=staff, status=422).json
    for method in ("wallet", "cash"):
        nobody = app.post_json("/api/bar/purchases", sale(9999, (cola, 1), method=method), headers=staff, status=422)
        assert nobody.json["error"]["details"][0]["field"] == "holder_id"
    assert nothing["error"]["details"][0]["field"] == "lines"
    app.post("/api/bar/purchases", "{not json", headers={**staff, "Content-Type": "application/json"}, status=400)
    assert bar.balance(holder) == Decimal("5.00")


def test_only_active_personnel_sell(app, bar, make_user, login):
    holder, member = bar.member("ann", "5.00")
    cola = bar.product("Cola", "1.80")
    retired = bar.staff("retired", active=False)
    not_personnel = login(make_user("manager", permissions=("bar.sell",)))

    app.post_json("/api/bar/purchases", sale(holder, (cola, 1)), status=401)
    app.post_json("/api/bar/purchases", sale(holder, (cola, 1)), headers=member, status=403)
    app.post_json("/api/bar/purchases", sale(holder, (cola, 1)), headers=retired, status=403)
    app.post_json("/api/bar/purchases", sale(holder, (cola, 1)), headers=not_personnel, status=403)
    assert bar.balance(holder) == Decimal("5.00")


def test_members_see_only_their_own_purchases_staff_see_all(app, bar):
    staff = bar.staff()
    ann, ann_headers = bar.member("ann", "10.00")
    bob, bob_headers = bar.member("bob", "10.00")
    cola = bar.product("Cola", "1.80")
    anns = app.post_json("/api/bar/purchases", sale(ann, (cola, 1)), headers=staff, status=201).json
    app.post_json("/api/bar/purchases", sale(bob, (cola, 2)), headers=staff, status=201)
    app.post_json("/api/bar/purchases", sale(None, (cola, 1), method="cash"), headers=staff, status=201)

    assert [p["holder_id"] for p in app.get("/api/bar/purchases", headers=ann_headers).json["results"]] == [ann]
    assert app.get("/api/bar/purchases", headers=staff).json["count"] == 3
    assert app.get("/api/bar/purchases?payment_method=cash", headers=staff).json["count"] == 1
    app.get(f"/api/bar/purchases/{anns['id']}", headers=bob_headers, status=403)
    app.get("/api/bar/purchases?holder__balance=1", headers=staff, status=422)
    assert app.get("/api/bar/wallet", headers=bob_headers).json["balance"] == "6.40"
    app.get(f"/api/bar/holders/{ann}", headers=bob_headers, status=403)


def test_the_answer_to_a_sale_is_the_purchase_as_stored(app, bar):
    """The answer is built from what the sale wrote, not read back: it must equal what the purchase reads later."""
    staff = bar.staff()
    holder, member = bar.member("ann", "10.00")
    beer = bar.product("Beer", "2.20", units="0.25", stock="Keg")
    crisps = bar.product("Crisps", "1.00")

    paid = app.post_json("/api/bar/purchases", sale(holder, (beer, 2), (crisps, 1)), headers=staff, status=201).json
    cash = app.post_json("/api/bar/purchases", sale(None, (crisps, 3), method="cash"), headers=staff, status=201).json

    for sold in (paid, cash):
        assert app.get(f"/api/bar/purchases/{sold['id']}", headers=staff).json == sold
    assert app.get("/api/bar/wallet", headers=member).json["balance"] == paid["balance_after"] == "4.60"


def test_one_sale_takes_from_every_stock_its_lines_use(app, bar, in_transaction):
    staff = bar.staff()
    holder, _ = bar.member("ann", "20.00")
    beer = bar.product("Beer", "2.20", units="0.25", stock="Keg")
    cola = bar.product("Cola", "1.80", stock="Crate")

    bought = app.post_json(
        "/api/bar/purchases", sale(holder, (beer, 2), (cola, 1), (beer, 1)), headers=staff, status=201
    ).json

    assert (bought["total"], bought["balance_after"]) == ("8.40", "11.60")
    assert [line["product_name"] for line in bought["lines"]] == ["Beer", "Cola", "Beer"]
    stock = dict(in_transaction(lambda db: db.execute(select(Stock.name, Stock.quantity)).all()))
    assert stock == {"Keg": Decimal("99.250"), "Crate": Decimal("99.000")}
    assert bar.ledger_ok()
