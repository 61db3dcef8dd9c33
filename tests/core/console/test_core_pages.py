"""The core's console pages: dashboard, users, groups, API keys, password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pyramidion.auth.models import APIKey, Group, User
from pyramidion.auth.models import Session as AuthSession
from pyramidion.testing.browser import webtest_console_login

ADMIN_PAGES = [
    "/console/users",
    "/console/users/new",
    "/console/users/{user}",
    "/console/groups",
    "/console/groups/{group}",
]
MEMBER_PAGES = ["/console/", "/console/api-keys", "/console/password"]
# Every page that changes something, with a body that would be accepted with the CSRF token.
UNSAFE = [
    ("/console/users/new", {"username": "eve", "email": "eve@example.com", "password": "a-long-passphrase"}),
    ("/console/users/{user}", {"email": "ann@example.org"}),
    ("/console/users/{user}/active", {"is_active": "false"}),
    ("/console/groups", {"name": "crew"}),
    ("/console/groups/{group}", {"name": "renamed"}),
    ("/console/groups/{group}/delete", {}),
    ("/console/api-keys", {"name": "script", "paths": "/api/*"}),
    ("/console/api-keys/{key}/revoke", {}),
    ("/console/password", {"old_password": "password123", "new_password": "a-long-passphrase"}),
    ("/console/logout", {}),
]


@pytest.fixture
def ids(make_user, db, registry):
    ann = make_user("ann")
    group = Group(name="staff", description="the staff")
    db.add(group)
    db.commit()
    key = APIKey(name="k", user_id=ann.id, prefix="abc123", key_hash="0" * 64, paths=["/api/*"])
    db.add(key)
    db.commit()
    return {"user": ann.id, "group": group.id, "key": key.id}


def url(template, ids):
    return template.format(**ids)


@pytest.mark.parametrize("page", ADMIN_PAGES + MEMBER_PAGES)
def test_anonymous_visitors_are_sent_to_the_login(app, ids, page):
    response = app.get(url(page, ids), status=302)
    assert response.location.startswith("http://localhost/console/login?next=")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_administration_pages_are_403_without_auth_admin(app, ids, page):
    webtest_console_login(app, "ann")
    page = app.get(url(page, ids), status=403)
    assert "auth.admin" in page.text


@pytest.mark.parametrize("page", ADMIN_PAGES + MEMBER_PAGES)
def test_every_page_opens_for_an_administrator(app, ids, make_user, page):
    make_user("boss", permissions=["auth.admin"])
    webtest_console_login(app, "boss")
    response = app.get(url(page, ids), status=200)
    assert response.content_type == "text/html" and "<h1>" in response.text


@pytest.mark.parametrize("page,body", UNSAFE)
def test_a_cookie_post_without_the_csrf_token_changes_nothing(app, ids, make_user, db, page, body):
    make_user("boss", permissions=["auth.admin"])
    webtest_console_login(app, "boss")
    before = [db.scalars(select(User.email)).all(), db.scalars(select(Group.name)).all(), db.scalar(select(APIKey))]
    app.post(url(page, ids), body, status=403)
    db.rollback()
    after = [db.scalars(select(User.email)).all(), db.scalars(select(Group.name)).all(), db.scalar(select(APIKey))]
    assert after[:2] == before[:2] and after[2].revoked_at is None
    app.get("/console/", status=200)  # still logged in


def test_the_menu_shows_administration_only_to_administrators(app, ids, make_user):
    webtest_console_login(app, "ann")
    menu = [a.text for a in app.get("/console/").html.select("nav[aria-label=Console] a")]
    assert "API keys" in menu and "Password" in menu and "Users" not in menu and "Groups" not in menu
    app.reset()
    make_user("boss", permissions=["auth.admin"])
    webtest_console_login(app, "boss")
    menu = [a.text for a in app.get("/console/").html.select("nav[aria-label=Console] a")]
    assert {"Users", "Groups"} <= set(menu)


def test_the_dashboard_shows_each_service_and_the_plugins(app, ids, registry):
    webtest_console_login(app, "ann")
    page = app.get("/console/")
    cards = {card.h3.text: card.text for card in page.html.select(".status")}
    assert set(cards) == {"Database", "Migrations", "Queue", "Worker", "Router"}
    assert "reachable" in cards["Database"] and "Not OK" in cards["Router"]  # nothing listens on the test router port
    plugins = [row.td.text for row in page.html.select("section[aria-labelledby=plugins-title] tbody tr")]
    assert plugins == registry.pm.names


@pytest.fixture
def admin_app(app, make_user):
    make_user("boss", permissions=["auth.admin"])
    return app, webtest_console_login(app, "boss")


def test_users_are_searched(admin_app, make_user):
    app, _ = admin_app
    make_user("carol", email="carol@example.com")
    make_user("dave")
    page = app.get("/console/users?search=caro")
    names = [a.text for a in page.html.select("tbody td[data-label=Username] a")]
    assert names == ["carol"]
    assert "1 user matching" in page.text


def test_an_administrator_creates_a_user_in_groups(admin_app, db):
    app, token = admin_app
    db.add(Group(name="staff"))
    db.commit()
    response = app.post(
        "/console/users/new",
        {
            "csrf_token": token,
            "username": "erin",
            "email": "erin@example.com",
            "password": "a-long-passphrase",
            "groups": "staff",
            "groups.sent": "1",
        },
        status=303,
    )
    page = response.follow()
    assert "User erin created." in page.text
    erin = db.scalar(select(User).where(User.username == "erin"))
    assert [g.name for g in erin.groups] == ["staff"]
    assert page.html.select_one("input[name=groups][value=staff]").has_attr("checked")


def test_a_taken_username_and_a_weak_password_show_beside_their_fields(admin_app, make_user, db):
    app, token = admin_app
    make_user("erin")
    page = app.post(
        "/console/users/new",
        {"csrf_token": token, "username": "ERIN", "email": "new@example.com", "password": "a-long-passphrase"},
        status=409,
    )
    assert "already taken" in page.html.select_one("#field-username-error").text.lower()
    assert page.html.select_one("#field-username")["value"] == "ERIN"
    page = app.post(
        "/console/users/new",
        {"csrf_token": token, "username": "frank", "email": "frank@example.com", "password": "short"},
        status=422,
    )
    assert page.html.select_one("#field-password-error").text
    assert page.html.select_one("#field-password")["value"] == ""  # a password is never sent back
    assert db.scalar(select(User).where(User.username == "frank")) is None


def test_deactivating_a_user_ends_their_console_session(admin_app, make_app, ids, db):
    app, token = admin_app
    ann_browser = make_app()
    webtest_console_login(ann_browser, "ann")
    response = app.post(f"/console/users/{ids['user']}/active", {"csrf_token": token, "is_active": "false"}, status=303)
    assert "deactivated" in response.follow().text
    ann_browser.get("/console/", status=302)
    db.rollback()
    assert db.get(User, ids["user"]).is_active is False


def test_editing_a_user_keeps_what_the_form_does_not_change(admin_app, ids, db):
    app, token = admin_app
    form = app.get(f"/console/users/{ids['user']}").forms["user-form"]
    form["first_name"] = "Ann"
    form["groups"] = ["staff"]
    response = form.submit(status=303)
    assert "User ann saved." in response.follow().text
    db.rollback()
    ann = db.get(User, ids["user"])
    assert ann.first_name == "Ann" and ann.is_active and [g.name for g in ann.groups] == ["staff"]
    webtest_console_login(app.__class__(app.app), "ann")  # the password stayed


def test_an_unknown_permission_is_refused_beside_the_field(admin_app, db):
    app, token = admin_app
    page = app.post(
        "/console/groups",
        {"csrf_token": token, "name": "crew", "permissions": "no.such", "permissions.sent": "1"},
        status=422,
    )
    assert "unknown permission" in page.html.select_one("#field-permissions-error").text.lower()
    assert db.scalar(select(Group).where(Group.name == "crew")) is None


def test_a_group_is_created_edited_and_deleted(admin_app, db):
    app, token = admin_app
    app.post(
        "/console/groups",
        {
            "csrf_token": token,
            "name": "crew",
            "description": "the crew",
            "permissions": "auth.admin",
            "permissions.sent": "1",
        },
        status=303,
    )
    crew = db.scalar(select(Group).where(Group.name == "crew"))
    crew_id = crew.id
    assert crew.permissions == ["auth.admin"]
    form = app.get(f"/console/groups/{crew_id}").forms["group-form"]
    form["permissions"] = []
    form.submit(status=303)
    db.rollback()
    assert db.get(Group, crew_id).permissions == []
    app.post(f"/console/groups/{crew_id}/delete", {"csrf_token": token}, status=303)
    db.rollback()
    assert db.get(Group, crew_id) is None


def test_a_new_api_key_is_shown_once_and_works_until_revoked(app, ids, db):
    token = webtest_console_login(app, "ann")
    page = app.post("/console/api-keys", {"csrf_token": token, "name": "script", "paths": "/api/auth/*"}, status=201)
    secret = page.html.select_one("#created-key")["value"]
    assert app.get("/api/auth/me", headers={"X-API-Key": secret}).json["username"] == "ann"
    listing = app.get("/console/api-keys")
    assert secret not in listing.text and "script" in listing.text
    key = db.scalar(select(APIKey).where(APIKey.name == "script"))
    app.post(f"/console/api-keys/{key.id}/revoke", {"csrf_token": token}, status=303)
    app.get("/api/auth/me", headers={"X-API-Key": secret}, status=401)


def test_someone_elses_key_cannot_be_revoked(app, ids, make_user):
    make_user("mallory")
    token = webtest_console_login(app, "mallory")
    app.post(f"/console/api-keys/{ids['key']}/revoke", {"csrf_token": token}, status=404)


def test_changing_my_password_ends_my_other_sessions_but_not_this_one(app, make_app, ids, db):
    token = webtest_console_login(app, "ann")
    elsewhere = make_app()
    webtest_console_login(elsewhere, "ann")
    wrong = app.post(
        "/console/password",
        {
            "csrf_token": token,
            "old_password": "nope",
            "new_password": "a-long-passphrase",
            "confirm_password": "a-long-passphrase",
        },
        status=422,
    )
    assert wrong.html.select_one("#field-old_password-error").text
    differ = app.post(
        "/console/password",
        {
            "csrf_token": token,
            "old_password": "password123",
            "new_password": "a-long-passphrase",
            "confirm_password": "other",
        },
        status=422,
    )
    assert "differ" in differ.html.select_one("#field-confirm_password-error").text
    done = app.post(
        "/console/password",
        {
            "csrf_token": token,
            "old_password": "password123",
            "new_password": "a-long-passphrase",
            "confirm_password": "a-long-passphrase",
        },
        status=303,
    )
    assert "Password changed" in done.follow().text
    elsewhere.get("/console/", status=302)
    app.get("/console/", status=200)
    sessions = db.scalars(select(AuthSession).where(AuthSession.user_id == ids["user"])).all()
    assert sum(session.revoked_at is None for session in sessions) == 1
