"""Products, stock, wallets, cards, roles, and the ledger check command."""

from decimal import Decimal

import pytest
from sqlalchemy import update

from pyramidion.auth.permissions import create_default_groups
from pyramidion.cli import main
from pyramidion_bar.models import Holder


def test_managers_keep_the_catalogue(app, bar):
    manager = bar.staff("manager")
    _, member = bar.member("ann")
    drinks = app.post_json("/api/bar/categories", {"name": "Drinks"}, headers=manager, status=201).json["id"]
    keg = app.post_json("/api/bar/stock", {"name": "Keg", "unit": "litres"}, headers=manager, status=201).json["id"]
    beer = app.post_json(
        "/api/bar/products",
        {
            "name": "Beer",
            "price": "2.20",
            "colour": "#f5c542",
            "units": "0.25",
            "stock_id": keg,
            "category_ids": [drinks],
        },
        headers=manager,
        status=201,
    ).json
    assert (beer["price"], beer["categories"]) == ("2.20", [{"id": drinks, "name": "Drinks"}])

    app.post_json("/api/bar/products", {"name": "Beer", "price": "1.00"}, headers=manager, status=409)
    bad = app.post_json(
        "/api/bar/products",
        {"name": "Wine", "price": "-1", "colour": "red", "stock_id": 999},
        headers=manager,
        status=422,
    ).json
    assert {d["field"] for d in bad["error"]["details"]} == {"price", "colour"}
    app.post_json("/api/bar/products", {"name": "Wine", "price": "3.00", "stock_id": 999}, headers=manager, status=422)
    app.post_json("/api/bar/products", {"name": "Wine", "price": "3.00"}, headers=member, status=403)
    app.patch_json(f"/api/bar/products/{beer['id']}", {"price": None}, headers=manager, status=422)
    app.patch_json(f"/api/bar/products/{beer['id']}", {"active": False}, headers=manager, status=200)
    assert app.get("/api/bar/products?active=true", headers=member).json["count"] == 0
    assert app.get(f"/api/bar/products?category={drinks}", headers=member).json["count"] == 1
    assert [p["name"] for p in app.get("/api/bar/categories", headers=member).json[0]["products"]] == ["Beer"]

    app.post_json(
        f"/api/bar/stock/{keg}/mutations",
        {"quantity": "50", "cost": "95.00", "comment": "delivery"},
        headers=manager,
        status=201,
    )
    app.post_json(
        f"/api/bar/stock/{keg}/mutations", {"quantity": "-1.5", "comment": "spilled"}, headers=manager, status=201
    )
    zero = app.post_json(f"/api/bar/stock/{keg}/mutations", {"quantity": "0"}, headers=manager, status=422).json
    assert zero["error"]["details"][0]["field"] == "quantity"
    assert app.get(f"/api/bar/stock/{keg}", headers=manager).json["quantity"] == "48.500"
    assert app.get(f"/api/bar/stock/{keg}/mutations", headers=manager).json["count"] == 2


def test_top_ups_refunds_and_wallets(app, bar, make_user):
    staff = bar.staff()
    holder, member = bar.member("ann")

    topped = app.post_json(
        f"/api/bar/holders/{holder}/top-ups",
        {"amount": "25.00", "method": "pin", "comment": "birthday"},
        headers=staff,
        status=201,
    ).json
    assert (topped["kind"], topped["amount"], topped["balance_after"], topped["method"]) == (
        "top_up",
        "25.00",
        "25.00",
        "pin",
    )
    app.post_json(
        f"/api/bar/holders/{holder}/refunds", {"amount": "30.00", "method": "cash"}, headers=staff, status=409
    )
    app.post_json(f"/api/bar/holders/{holder}/refunds", {"amount": "5.00", "method": "cash"}, headers=staff, status=201)
    app.post_json(
        f"/api/bar/holders/{holder}/top-ups", {"amount": "-5.00", "method": "cash"}, headers=staff, status=422
    )
    app.post_json(
        f"/api/bar/holders/{holder}/top-ups", {"amount": "5.00", "method": "wallet"}, headers=staff, status=422
    )
    app.post_json(
        f"/api/bar/holders/{holder}/top-ups", {"amount": "5.00", "method": "cash"}, headers=member, status=403
    )
    app.post_json("/api/bar/holders/999/top-ups", {"amount": "5.00", "method": "cash"}, headers=staff, status=404)
    assert app.get("/api/bar/wallet", headers=member).json["balance"] == "20.00"
    assert [h["username"] for h in app.get("/api/bar/holders?search=an", headers=staff).json["results"]] == ["ann"]

    newcomer = make_user("newcomer")
    app.post_json("/api/bar/holders", {"user_id": newcomer.id}, headers=staff, status=201)
    app.post_json("/api/bar/holders", {"user_id": newcomer.id}, headers=staff, status=409)
    app.post_json("/api/bar/holders", {"user_id": 99999}, headers=staff, status=422)


def test_cards_are_looked_up_by_nfc_id_and_members_see_their_own(app, bar):
    staff = bar.staff()
    ann, ann_headers = bar.member("ann")
    bob, bob_headers = bar.member("bob")
    app.post_json(
        "/api/bar/cards", {"card_id": "04:A2:2B:1A", "holder_id": ann, "name": "keychain"}, headers=staff, status=201
    )
    app.post_json("/api/bar/cards", {"card_id": "04:FF:00:01", "holder_id": bob}, headers=staff, status=201)
    app.post_json("/api/bar/cards", {"card_id": "04:A2:2B:1A", "holder_id": bob}, headers=staff, status=409)

    found = app.get("/api/bar/cards/04:A2:2B:1A", headers=staff).json
    assert (found["holder"]["id"], found["holder"]["username"]) == (ann, "ann")
    app.get("/api/bar/cards/unknown", headers=staff, status=404)
    app.get("/api/bar/cards/04:A2:2B:1A", headers=bob_headers, status=403)
    assert [c["card_id"] for c in app.get("/api/bar/cards", headers=ann_headers).json["results"]] == ["04:A2:2B:1A"]
    assert app.get("/api/bar/cards", headers=staff).json["count"] == 2

    app.delete("/api/bar/cards/04:A2:2B:1A", headers=bob_headers, status=403)
    app.delete("/api/bar/cards/04:A2:2B:1A", headers=ann_headers, status=204)
    app.get("/api/bar/cards/04:A2:2B:1A", headers=staff, status=404)


def test_default_groups_and_me(app, registry, in_transaction, make_user, login):
    assert registry.default_groups["bar-personnel"] == ["bar.member", "bar.sell", "bar.top_up"]
    assert "bar.manage" in registry.default_groups["bar-managers"]
    assert registry.default_groups["bar-members"] == ["bar.member"]
    in_transaction(lambda db: create_default_groups(db, registry))
    admin = login(make_user("root", superuser=True))
    groups = {g["name"]: g["permissions"] for g in app.get("/api/groups", headers=admin).json}
    assert groups["bar-personnel"] == ["bar.member", "bar.sell", "bar.top_up"]
    assert app.get("/api/auth/me", headers=admin).json["bar"] == {"holder": None, "personnel": None}


def test_every_bar_endpoint_is_documented(app):
    paths = app.get("/api/openapi.json").json["paths"]
    assert "/api/bar/purchases" in paths and "/api/bar/cards/{card_id}" in paths
    xlsx = paths["/api/bar/overview.xlsx"]["get"]["responses"]["200"]["content"]
    assert list(xlsx) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert "security" not in paths["/api/bar/mollie/webhook"]["post"]


def test_the_ledger_check_command_finds_a_wallet_that_disagrees(bar, base_settings, in_transaction, tmp_path, capsys):
    holder, _ = bar.member("ann", "10.00")
    ini = tmp_path / "check.ini"
    settings = "\n".join(f"{key} = {value}" for key, value in base_settings.items())
    ini.write_text(f"[app:main]\nuse = egg:pyramidion\n{settings}\n")

    main(["bar-check-ledger", str(ini)])
    assert "ledger ok: 1 wallet(s), 1 entries" in capsys.readouterr().out

    in_transaction(lambda db: db.execute(update(Holder).where(Holder.id == holder).values(balance=Decimal("11.00"))))
    with pytest.raises(SystemExit) as failed:
        main(["bar-check-ledger", str(ini)])
    assert failed.value.code == 1
    out = capsys.readouterr().out
    assert f"wallet {holder}: balance 11.00 but ledger sums to 10.00" in out
