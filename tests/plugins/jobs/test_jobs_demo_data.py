"""Demo data: the original's inventories and presets, and users who log in by the one password scheme."""

from __future__ import annotations

from pyramidion_jobs.demo import USERS, add_demo_data


def test_demo_users_log_in_with_their_scheme_password_and_netadmin_runs_hello_world(app, registry, in_transaction):
    in_transaction(lambda db: add_demo_data(db, registry))
    in_transaction(lambda db: add_demo_data(db, registry))  # a second run adds nothing twice
    tokens = {}
    for username in USERS:
        answer = app.post_json("/api/auth/token", {"username": username, "password": f"{username}-password"})
        tokens[username] = {"Authorization": f"Bearer {answer.json['access']}"}
        me = app.get("/api/auth/me", headers=tokens[username]).json
        assert [group["name"] if isinstance(group, dict) else group for group in me["groups"]] == [username]
    netadmin = tokens["netadmin"]
    inventories = app.get("/api/jobs/inventories", headers=netadmin).json["results"]
    assert [i["name"] for i in inventories] == ["Example", "INS Lab"]
    presets = app.get("/api/jobs/presets", headers=netadmin).json
    assert presets["count"] == 3
    example = inventories[0]["id"]
    run = app.post_json(
        "/api/jobs/runs", {"template": "hello_world", "inventory_id": example}, headers=netadmin, status=202
    ).json
    hosts = app.get(f"/api/jobs/runs/{run['id']}/hosts", headers=netadmin).json["results"]
    assert [(h["host"], h["result"][0]["result"]) for h in hosts] == [
        ("router-1", "Hello from router-1"),
        ("router-2", "Hello from router-2"),
        ("switch-1", "Hello from switch-1"),
    ]
    app.post_json(
        "/api/jobs/runs", {"template": "hello_world", "inventory_id": example}, headers=tokens["support"], status=403
    )
