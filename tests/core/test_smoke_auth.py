def test_register_then_login_then_me(app):
    created = app.post_json(
        "/api/auth/register",
        {"username": "alice", "email": "alice@example.com", "password": "correct-horse-9"},
        status=201,
    )
    assert created.json == {"id": created.json["id"], "username": "alice", "email": "alice@example.com"}
    tokens = app.post_json("/api/auth/token", {"username": "alice", "password": "correct-horse-9"}).json
    me = app.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"}).json
    assert me["username"] == "alice"


def test_fixture_users_and_login(app, make_user, login):
    admin = make_user("root", superuser=True)
    listed = app.get("/api/users", headers=login(admin)).json
    assert [u["username"] for u in listed["results"]] == ["root"]
