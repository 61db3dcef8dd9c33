"""The demo data: books, a librarian and a reader whose balance shows the example."""

from __future__ import annotations

from pyramidion_rentals import pyramidion_demo_data


def test_demo_data_twice_gives_one_set_a_reader_can_use(app, registry, in_transaction):
    for _ in range(2):
        in_transaction(lambda db: pyramidion_demo_data(db=db, registry=registry))

    tokens = app.post_json("/api/auth/token", {"username": "reader", "password": "reader-password"}).json
    reader = {"Authorization": f"Bearer {tokens['access']}"}
    me = app.get("/api/auth/me", headers=reader).json
    assert app.get(f"/api/rentals/v3/users/{me['id']}/balance", headers=reader).json["balance"] == "29.00"
    assert app.get("/api/rentals/v1/books", headers=reader).json["count"] == 6
    assert app.get(f"/api/rentals/v1/users/{me['id']}/profile", headers=reader).json["name"] == "Rita Reader"

    tokens = app.post_json("/api/auth/token", {"username": "librarian", "password": "librarian-password"}).json
    librarian = {"Authorization": f"Bearer {tokens['access']}"}
    assert app.get("/api/rentals/v1/rentals", headers=librarian).json["count"] == 3
