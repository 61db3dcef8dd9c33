"""Logging in through the external member database, a stand-in on loopback."""

import pytest

TOKEN = "member-db-token"


class MemberDatabase:
    def __init__(self) -> None:
        self.members = {"ann": {"id": 41, "username": "ann", "email": "ann@members.example", "password": "s3cret-ann"}}

    def handle(self, method, path, body, headers):
        if method != "POST" or path != "/api/login" or headers.get("Authorization") != f"Bearer {TOKEN}":
            return 403, {"detail": "forbidden"}
        member = self.members.get(body["username"])
        if member is None or member["password"] != body["password"]:
            return 401, {"detail": "wrong username or password"}
        return 200, {k: member[k] for k in ("id", "username", "email")}


@pytest.fixture
def members(stand_in):
    database = MemberDatabase()
    database.server = stand_in(database.handle)
    return database


@pytest.fixture
def members_app(make_app, members):
    return make_app(bar__members__url=f"{members.server.url}/api/login", bar__members__token=TOKEN)


def me(app, tokens):
    return app.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"}).json


def test_a_member_logs_in_and_gets_a_user_and_a_wallet(members_app, members):
    tokens = members_app.post_json("/api/auth/token", {"username": "ann", "password": "s3cret-ann"}, status=200).json
    first = me(members_app, tokens)
    assert (first["username"], first["email"]) == ("ann", "ann@members.example")
    assert first["bar"]["holder"]["balance"] == "0.00"

    members.members["ann"]["email"] = "ann@new.example"
    again = me(
        members_app, members_app.post_json("/api/auth/token", {"username": "ann", "password": "s3cret-ann"}).json
    )
    assert (again["id"], again["email"]) == (first["id"], "ann@new.example")
    assert again["bar"]["holder"]["id"] == first["bar"]["holder"]["id"]

    members_app.post_json("/api/auth/token", {"username": "ann", "password": "wrong"}, status=401)


def test_a_member_never_takes_over_a_local_account_of_the_same_name(members_app, make_user):
    make_user("ann", password="local-password")

    members_app.post_json("/api/auth/token", {"username": "ann", "password": "s3cret-ann"}, status=401)
    tokens = members_app.post_json(
        "/api/auth/token", {"username": "ann", "password": "local-password"}, status=200
    ).json
    assert me(members_app, tokens)["bar"]["holder"] is None


def test_when_the_member_database_is_down_local_passwords_still_work(make_app, make_user):
    app = make_app(
        bar__members__url="http://127.0.0.1:9/api/login", bar__members__token=TOKEN, bar__members__timeout="0.5"
    )
    make_user("bob", password="bobs-password")
    app.post_json("/api/auth/token", {"username": "bob", "password": "bobs-password"}, status=200)
    app.post_json("/api/auth/token", {"username": "ann", "password": "s3cret-ann"}, status=401)


def test_a_member_joins_the_default_members_group(members_app, app, make_user, login):
    admin = login(make_user("root", superuser=True))
    app.post_json("/api/groups", {"name": "bar-members", "permissions": ["bar.member"]}, headers=admin, status=201)
    tokens = members_app.post_json("/api/auth/token", {"username": "ann", "password": "s3cret-ann"}).json
    assert me(members_app, tokens)["groups"] == ["bar-members"]
    assert "bar.member" in me(members_app, tokens)["permissions"]
