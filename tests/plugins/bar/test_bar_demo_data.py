"""After ``pyramidion demo-data`` a newcomer can sell at once, as the README's "Demo data" says."""

import pytest

from pyramidion.cli import main
from pyramidion.demo import demo_password


@pytest.fixture
def demo_ini(base_settings, tmp_path):
    ini = tmp_path / "demo.ini"
    settings = "\n".join(f"{key} = {value}" for key, value in base_settings.items())
    ini.write_text(f"[app:main]\nuse = egg:pyramidion\n{settings}\n")
    return str(ini)


def log_in(app, username):
    tokens = app.post_json("/api/auth/token", {"username": username, "password": demo_password(username)}).json
    return {"Authorization": f"Bearer {tokens['access']}"}


def test_the_barkeeper_sells_to_a_card_holder_at_once(app, demo_ini, capsys):
    main(["demo-data", demo_ini])
    main(["demo-data", demo_ini])  # a second run adds nothing twice
    assert "bar" in capsys.readouterr().out
    barkeeper = log_in(app, "barkeeper")

    assert app.get("/api/bar/cycles/current", headers=barkeeper).json["is_open"] is True
    lotte = app.get("/api/bar/cards/04:A2:2B:1A", headers=barkeeper).json["holder"]
    assert (lotte["username"], lotte["balance"]) == ("lotte", "25.00")
    beer = next(p for p in app.get("/api/bar/products?search=Beer", headers=barkeeper).json["results"])
    sale = {"payment_method": "wallet", "holder_id": lotte["id"], "lines": [{"product_id": beer["id"], "quantity": 2}]}
    assert app.post_json("/api/bar/purchases", sale, headers=barkeeper, status=201).json["balance_after"] == "20.60"

    sem = app.get("/api/bar/cards/04:7F:3C:09", headers=barkeeper).json["holder"]
    too_much = {**sale, "holder_id": sem["id"]}
    app.post_json("/api/bar/purchases", too_much, headers=barkeeper, status=409)

    assert app.get("/api/bar/holders", headers=barkeeper).json["count"] == 3
    manager = log_in(app, "bar-manager")
    app.get("/api/bar/overview", headers=manager, status=200)
    member = log_in(app, "lotte")
    assert app.get("/api/bar/wallet", headers=member).json["balance"] == "20.60"
    app.post_json("/api/bar/purchases", sale, headers=member, status=403)
