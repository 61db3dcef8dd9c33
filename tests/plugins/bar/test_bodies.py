"""The bar's request bodies follow the platform's rules: unknown fields are refused, PATCH changes what is sent."""

import pytest


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/bar/purchases", {"payment_method": "cash", "lines": [{"product_id": 1, "quantity": 1}], "discount": 1}),
        ("/api/bar/purchases", {"payment_method": "cash", "lines": [{"product_id": 1, "quantity": 1, "free": True}]}),
        ("/api/bar/products", {"name": "Wine", "price": "3.00", "colour_name": "red"}),
        ("/api/bar/categories", {"name": "Wine", "sorting": 1}),
        ("/api/bar/reports", {"action": "open", "cash": "1", "flow_meter_1": "0", "flow_meter_2": "0", "tip": "1"}),
    ],
)
def test_unknown_fields_are_refused_naming_them_and_change_nothing(app, bar, path, body):
    manager = bar.staff("manager")
    refused = app.post_json(path, body, headers=manager, status=422).json
    fields = {detail["field"] for detail in refused["error"]["details"]}
    assert fields & {"discount", "lines.0.free", "colour_name", "sorting", "tip"}
    assert app.get("/api/bar/products", headers=manager).json["count"] == 0
    assert app.get("/api/bar/reports", headers=manager).json["count"] == 0


def test_a_patch_changes_only_what_is_sent_and_clears_only_what_may_be_empty(app, bar):
    manager = bar.staff("manager")
    keg = app.post_json("/api/bar/stock", {"name": "Keg"}, headers=manager, status=201).json["id"]
    beer = app.post_json(
        "/api/bar/products",
        {"name": "Beer", "price": "2.20", "image": "https://bar.example/beer.png", "stock_id": keg},
        headers=manager,
        status=201,
    ).json

    renamed = app.patch_json(f"/api/bar/products/{beer['id']}", {"name": "Lager"}, headers=manager).json
    assert (renamed["name"], renamed["price"], renamed["stock_id"]) == ("Lager", "2.20", keg)
    cleared = app.patch_json(f"/api/bar/products/{beer['id']}", {"image": None, "stock_id": None}, headers=manager).json
    assert (cleared["image"], cleared["stock_id"], cleared["name"]) == (None, None, "Lager")
    refused = app.patch_json(f"/api/bar/products/{beer['id']}", {"name": None}, headers=manager, status=422).json
    assert refused["error"]["details"][0]["field"] == "name"
    app.patch_json(f"/api/bar/products/{beer['id']}", {"brewery": "x"}, headers=manager, status=422)
    assert app.get(f"/api/bar/products/{beer['id']}", headers=manager).json["name"] == "Lager"

    staff_id = app.get("/api/bar/personnel", headers=manager).json["results"][0]["id"]
    app.patch_json(f"/api/bar/personnel/{staff_id}", {"active": None}, headers=manager, status=422)
    kept = app.patch_json(f"/api/bar/personnel/{staff_id}", {"nickname": "Boss"}, headers=manager).json
    assert (kept["nickname"], kept["active"]) == ("Boss", True)
