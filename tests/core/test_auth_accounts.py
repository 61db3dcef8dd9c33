"""One name, one person; display names; the user directory every member may search."""

from __future__ import annotations

import pytest

from pyramidion.auth import users_by_username

REGISTER = "/api/auth/register"
GOOD = "correct-horse-9"


def register(app, username: str, email: str | None = None, status: int = 201, **fields):
    body = {"username": username, "email": email or "someone@example.com", "password": GOOD, **fields}
    return app.post_json(REGISTER, body, status=status)


def fields_of(response) -> list[str]:
    return [detail["field"] for detail in response.json["error"]["details"]]


# -- one name, one person ------------------------------------------------------


@pytest.mark.parametrize("lookalike", ["Admin", "ADMIN", "aDmIn"])
def test_a_username_differing_by_case_is_taken(app, lookalike):
    register(app, "admin", "admin@example.com")
    response = register(app, lookalike, "other@example.com", status=409)
    assert fields_of(response) == ["username"]


@pytest.mark.parametrize(
    "outside", ["ａｄｍｉｎ", "Ａdmin", "admin\u0301", "аdmin", "ad min", "admin!", "-admin", "", "a" * 151]
)
def test_a_username_outside_the_alphabet_is_refused(app, outside):
    register(app, "admin", "admin@example.com")
    response = register(app, outside, "other@example.com", status=422)
    assert fields_of(response) == ["username"]


def test_a_fullwidth_username_is_refused_even_without_a_twin(app):
    assert fields_of(register(app, "ｂｏｂ", "bob@example.com", status=422)) == ["username"]


def test_an_email_differing_by_case_is_taken(app):
    register(app, "admin", "admin@example.com")
    response = register(app, "other", "ADMIN@EXAMPLE.COM", status=409)
    assert fields_of(response) == ["email"]


def test_administrators_get_the_same_uniqueness(app, make_user, login):
    root = make_user("root", superuser=True)
    make_user("alice", email="alice@example.com")
    body = {"username": "ALICE", "email": "new@example.com", "password": GOOD}
    assert fields_of(app.post_json("/api/users", body, headers=login(root), status=409)) == ["username"]
    body = {"username": "new", "email": "Alice@Example.COM", "password": GOOD}
    assert fields_of(app.post_json("/api/users", body, headers=login(root), status=409)) == ["email"]
    bob = make_user("bob")
    response = app.patch_json(f"/api/users/{bob.id}", {"email": "ALICE@example.com"}, headers=login(root), status=409)
    assert fields_of(response) == ["email"]


@pytest.mark.parametrize("password", ["alice-smith", "ALICE-SMITH", "password1", "qwerty123", "iloveyou"])
def test_a_password_equal_to_the_username_or_common_is_refused(app, password):
    response = register(app, "alice-smith", "alice@example.com", status=422, password=password)
    assert fields_of(response) == ["password"]


def test_login_ignores_the_case_of_the_username(app):
    register(app, "Alice", "alice@example.com")
    tokens = app.post_json("/api/auth/token", {"username": "ALICE", "password": GOOD}).json
    me = app.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"}).json
    assert me["username"] == "Alice"


def test_registration_refuses_unknown_fields(app):
    response = register(app, "alice", "alice@example.com", status=422, is_superuser=True)
    assert fields_of(response) == ["is_superuser"]


# -- display names ---------------------------------------------------------------


def test_i_set_my_display_name_and_it_shows_in_me(app, make_user, login):
    alice = make_user("alice")
    headers = login(alice)
    assert app.get("/api/auth/me", headers=headers).json["display_name"] == "alice"
    me = app.patch_json("/api/auth/me", {"first_name": "Alice", "last_name": "Liddell"}, headers=headers).json
    assert (me["first_name"], me["last_name"], me["display_name"]) == ("Alice", "Liddell", "Alice Liddell")
    assert app.get("/api/auth/me", headers=headers).json["display_name"] == "Alice Liddell"


def test_i_cannot_change_anything_else_of_mine_through_me(app, make_user, login):
    alice = make_user("alice")
    for body in ({"is_superuser": True}, {"username": "root"}, {"first_name": None}, {"first_name": "x" * 151}):
        app.patch_json("/api/auth/me", body, headers=login(alice), status=422)
    me = app.get("/api/auth/me", headers=login(alice)).json
    assert (me["username"], me["is_superuser"], me["first_name"]) == ("alice", False, "")


def test_registration_takes_a_display_name(app):
    created = register(app, "carol", "carol@example.com", first_name="Carol", last_name="Danvers").json
    tokens = app.post_json("/api/auth/token", {"username": "carol", "password": GOOD}).json
    me = app.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"}).json
    assert me["id"] == created["id"] and me["display_name"] == "Carol Danvers"


# -- the directory -----------------------------------------------------------------


def test_any_member_searches_the_directory_by_the_start_of_names(app, make_user, login, db):
    make_user("alice").first_name = "Alice"
    bob = make_user("bob")
    bob.first_name, bob.last_name = "Robert", "Alison"
    make_user("carol")
    make_user("malice")  # "alice" inside, not at the start
    make_user("gone", active=False)
    db.commit()
    member = login(make_user("dave"))
    page = app.get("/api/users/directory", {"search": "ali"}, headers=member).json
    assert [entry["username"] for entry in page["results"]] == ["alice", "bob"]
    assert page["results"][1] == {
        "id": bob.id,
        "username": "bob",
        "display_name": "Robert Alison",
        "first_name": "Robert",
        "last_name": "Alison",
        "email": None,
    }
    everyone = app.get("/api/users/directory", headers=member).json
    assert [e["username"] for e in everyone["results"]] == ["alice", "bob", "carol", "dave", "malice"]
    assert app.get("/api/users/directory", {"search": "ALI"}, headers=member).json["count"] == 2


def test_the_directory_shows_an_email_only_when_its_owner_allows_it(app, make_user, login):
    alice = make_user("alice")
    member = login(make_user("bob"))
    app.patch_json("/api/auth/me", {"email_visible": True}, headers=login(alice))
    entries = {e["username"]: e["email"] for e in app.get("/api/users/directory", headers=member).json["results"]}
    assert entries == {"alice": "alice@example.com", "bob": None}


def test_the_directory_is_paginated_and_for_members_only(app, make_user, login):
    for n in range(5):
        make_user(f"user{n}")
    member = login(make_user("zed"))
    page = app.get("/api/users/directory", {"limit": 2, "offset": 2}, headers=member).json
    assert page["count"] == 6 and [e["username"] for e in page["results"]] == ["user2", "user3"]
    assert page["next"] and page["previous"]
    app.get("/api/users/directory", status=401)
    app.get("/api/users/directory", {"email": "x"}, headers=member, status=422)


def test_users_by_username_matches_as_logins_do(make_user, db):
    alice, bob = make_user("alice"), make_user("Bob")
    make_user("gone", active=False)
    found = users_by_username(db, ["ALICE", "bob", "gone", "nobody"])
    assert {name: user.id for name, user in found.items()} == {"ALICE": alice.id, "bob": bob.id}
