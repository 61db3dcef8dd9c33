"""The console's foundation: login and logout, the session cookie, CSRF, pages from a plugin hook."""

from __future__ import annotations

import console_sample
import pytest
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.auth.models import Session as AuthSession
from pyramidion.auth.models import User
from pyramidion.testing.browser import csrf_token_of, webtest_console_login

ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def sample_app(make_app):
    console_sample.NOTES.clear()
    return make_app(extra_plugins=[("sample", console_sample)])


def test_anonymous_visitors_are_sent_to_the_login_with_the_page_they_wanted(app):
    response = app.get("/console/?q=ann", status=302)
    assert response.location == "http://localhost/console/login?next=%2Fconsole%2F%3Fq%3Dann"


def test_logging_in_opens_the_wanted_page_with_a_secure_session_cookie(app, make_user):
    make_user("ann")
    page = app.get("/console/login?next=/console/")
    form = page.forms[0]
    form["username"] = "ann"
    form["password"] = "password123"
    response = form.submit(headers=ORIGIN, status=303)
    assert response.location == "http://localhost/console/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("pyramidion_console=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in cookie.lower()  # plain http here; see the https test
    dashboard = response.follow()
    assert "Welcome, ann." in dashboard.text
    assert dashboard.headers["Cache-Control"] == "no-store"


def test_the_cookie_is_secure_over_https(app, make_user):
    make_user("ann")
    response = app.post(
        "https://localhost/console/login",
        {"username": "ann", "password": "password123"},
        headers={"Origin": "https://localhost"},
        status=303,
    )
    assert "; secure" in response.headers["Set-Cookie"].lower()


def test_a_wrong_password_is_refused_and_throttled_like_the_api(make_app, make_user):
    app = make_app(auth__login_max_failures="2")
    make_user("ann")
    for _ in range(2):
        page = app.post("/console/login", {"username": "ann", "password": "nope"}, headers=ORIGIN, status=422)
        assert "Wrong username or password." in page.text
    page = app.post("/console/login", {"username": "ann", "password": "password123"}, headers=ORIGIN, status=429)
    assert "Too many failed logins" in page.text
    # The API counts the same refusals.
    app.post("/api/auth/token", {"username": "ann", "password": "password123"}, status=429)


def test_an_empty_login_form_names_each_missing_field(app):
    page = app.post("/console/login", {"username": "", "password": ""}, headers=ORIGIN, status=422)
    assert page.text.count('aria-invalid="true"') == 2
    assert "Field required" in page.text


def test_a_login_form_posted_from_another_site_is_refused(app, make_user):
    make_user("ann")
    response = app.post(
        "/console/login",
        {"username": "ann", "password": "password123"},
        headers={"Origin": "https://evil.example"},
        status=403,
    )
    assert "pyramidion_console" not in response.headers.get("Set-Cookie", "")


def test_next_never_leads_off_the_site(app, make_user):
    make_user("ann")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = app.post(
            "/console/login?next=" + target, {"username": "ann", "password": "password123"}, headers=ORIGIN
        )
        assert response.location == "http://localhost/console/"
        app.reset()


def test_logout_revokes_the_session_row(app, make_user, db):
    user = make_user("ann")
    token = webtest_console_login(app, "ann")
    stolen = app.cookies["pyramidion_console"]
    response = app.post("/console/logout", {"csrf_token": token}, status=303)
    assert response.location == "http://localhost/console/login"
    assert "You are logged out." in response.follow().text
    session = db.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
    assert session.revoked_at is not None and session.revoked_reason == "logout"
    # The old cookie, kept by someone, opens nothing any more.
    app.set_cookie("pyramidion_console", stolen)
    app.get("/console/", status=302)


def test_deactivating_the_user_ends_their_console_session(app, make_user, db, login):
    make_user("ann")
    admin = make_user("root", superuser=True)
    webtest_console_login(app, "ann")
    app.get("/console/", status=200)
    ann = db.scalar(select(User).where(User.username == "ann"))
    app.patch_json(f"/api/users/{ann.id}", {"is_active": False}, headers=login(admin))
    app.get("/console/", status=302)


def test_a_forged_or_token_derived_cookie_is_refused(app, make_user, login, db):
    user = make_user("ann")
    login(user)  # a token login: its session id is readable in the access token
    session = db.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
    app.set_cookie("pyramidion_console", f"{user.id}.{session.id}.{'0' * 64}")
    app.get("/console/", status=302)
    assert app.get("/api/auth/me", expect_errors=True).status_int == 401


def test_the_cookie_works_for_the_api_but_unsafe_requests_need_the_csrf_token(app, make_user):
    make_user("ann")
    token = webtest_console_login(app, "ann")
    assert app.get("/api/auth/me").json["username"] == "ann"
    key = {"name": "script", "paths": ["/api/*"]}
    refused = app.post_json("/api/auth/api-keys", key, status=403)
    assert "CSRF" in refused.json["error"]["message"]
    app.post_json("/api/auth/api-keys", key, headers={"X-CSRF-Token": "wrong"}, status=403)
    app.post_json("/api/auth/api-keys", key, headers={"X-CSRF-Token": token}, status=201)


def test_a_console_post_without_the_csrf_token_is_refused_with_a_page(app, make_user):
    make_user("ann")
    webtest_console_login(app, "ann")
    page = app.post("/console/logout", status=403)
    assert "CSRF token" in page.text and page.content_type == "text/html"
    app.get("/console/", status=200)  # still logged in


def test_a_plugin_adds_pages_menu_entries_and_static_files(sample_app, make_user):
    make_user("ann")
    webtest_console_login(sample_app, "ann")
    page = sample_app.get("/console/sample/")
    assert "<h1>Notes</h1>" in page.text
    menu = page.html.select("nav[aria-label=Console] a")
    titles = [a.text for a in menu]
    assert titles[0] == "Dashboard" and "Notes" in titles
    assert "Secret notes" not in titles  # ann lacks sample.write
    assert page.html.select_one("nav a[aria-current=page]").text == "Notes"
    script = page.html.select_one("script[src$='notes.js']")["src"]
    assert script == "http://localhost/console/sample/static/notes.js"
    assert "sample plugin script" in sample_app.get(script).text


def test_a_page_needing_a_permission_the_user_lacks_is_a_403_page(sample_app, make_user):
    make_user("ann")
    make_user("writer", permissions=["sample.write"])
    webtest_console_login(sample_app, "ann")
    page = sample_app.get("/console/sample/secret", status=403)
    assert "sample.write" in page.text and "the secret note" not in page.text
    sample_app.reset()
    webtest_console_login(sample_app, "writer")
    assert "the secret note" in sample_app.get("/console/sample/secret").text
    menu = [a.text for a in sample_app.get("/console/").html.select("nav[aria-label=Console] a")]
    assert "Secret notes" in menu


def test_a_form_shows_the_schema_messages_beside_each_field_and_keeps_what_was_typed(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    page = sample_app.post(
        "/console/sample/", {"csrf_token": token, "title": "ab", "pages": "0", "tags": "x, y"}, status=422
    )
    title = page.html.select_one("#field-title")
    assert title["aria-invalid"] == "true" and title["value"] == "ab"
    assert "at least 3 characters" in page.html.select_one("#field-title-error").text
    assert "greater than or equal to 1" in page.html.select_one("#field-pages-error").text
    assert page.html.select_one("#field-tags")["value"] == "x, y"
    assert console_sample.NOTES == []


def test_a_service_refusal_shows_beside_its_field(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    page = sample_app.post("/console/sample/", {"csrf_token": token, "title": "forbidden"}, status=422)
    assert page.html.select_one("#field-title-error").text == "This title is reserved"


def test_a_valid_form_redirects_with_a_message(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    response = sample_app.post(
        "/console/sample/", {"csrf_token": token, "title": "groceries", "urgent": "on"}, status=303
    )
    assert "Note groceries added" in response.follow().text
    assert console_sample.NOTES == ["groceries"]
    assert "Note groceries added" not in sample_app.get("/console/sample/").text  # shown once


def test_without_the_console_the_api_is_whole_and_the_cookie_means_nothing(make_app, make_user):
    app = make_app(console__enabled="false")
    make_user("ann")
    app.get("/console/", status=404)
    assert app.get("/api/health").json["database"]["ok"] is True
    token = app.post("/api/auth/token", {"username": "ann", "password": "password123"}).json["access"]
    assert app.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json["username"] == "ann"


def test_console_pages_carry_no_inline_script(app, make_user):
    make_user("ann")
    webtest_console_login(app, "ann")
    page = app.get("/console/")
    for script in page.html.select("script"):
        assert script.get("src") and not script.text.strip()
    assert not any(attr.startswith("on") for tag in page.html.find_all(True) for attr in tag.attrs)
    assert csrf_token_of(page)


def test_a_page_may_take_a_larger_body_than_the_api(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    big = b"x" * (1536 * 1024)  # over api.max_body_size (1 MiB), under the page's 2 MiB
    page = sample_app.post("/console/sample/upload", {"csrf_token": token}, upload_files=[("file", "a.bin", big)])
    assert page.text == f"received {len(big)} bytes"
    too_big = b"x" * (3 * 1024 * 1024)
    sample_app.post(
        "/console/sample/upload", {"csrf_token": token}, upload_files=[("file", "a.bin", too_big)], status=413
    )


def test_what_users_type_is_escaped_in_every_template(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    sample_app.post("/console/sample/", {"csrf_token": token, "title": "<script>alert(1)</script>"}, status=303)
    page = sample_app.get("/console/sample/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_an_htmx_request_without_the_csrf_header_is_refused(sample_app, make_user):
    make_user("ann")
    token = webtest_console_login(sample_app, "ann")
    sample_app.post("/console/sample/ping", headers={"HX-Request": "true"}, status=403)
    fragment = sample_app.post("/console/sample/ping", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert fragment.text.strip() == '<p id="pong">pong for ann</p>'


class MemberDatabase:
    """An identity source of a plugin, as the bar's member database is."""

    @hookimpl
    def pyramidion_authenticate(self, request, username, password):
        if (username, password) != ("member-7", "card-secret"):
            return None
        user = request.db.scalar(select(User).where(User.username == "member-7"))
        if user is None:
            user = User(username="member-7", email="member-7@example.com", password_hash=None)
            request.db.add(user)
            request.db.flush()
        return user


def test_the_console_logs_in_through_a_plugins_identity_source(make_app):
    app = make_app(extra_plugins=[("members", MemberDatabase())])
    app.post("/console/login", {"username": "member-7", "password": "wrong"}, headers=ORIGIN, status=422)
    response = app.post("/console/login", {"username": "member-7", "password": "card-secret"}, headers=ORIGIN)
    assert response.status_int == 303
    assert "Welcome, member-7." in app.get("/console/").text


def test_a_bug_in_a_page_is_a_500_page_not_a_traceback(sample_app, make_user):
    make_user("ann")
    webtest_console_login(sample_app, "ann")
    page = sample_app.get("/console/sample/broken", status=500)
    assert page.content_type == "text/html" and "Something went wrong" in page.text
    assert "a bug in a page" not in page.text


def test_an_anonymous_htmx_request_is_sent_to_the_login_page_whole(app):
    response = app.post("/console/logout", headers={"HX-Request": "true"}, status=401)
    assert response.headers["HX-Redirect"] == "http://localhost/console/login"
