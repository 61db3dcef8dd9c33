"""No request crashes the server; bodies are bounded; protective headers on every answer."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from pyramidion import hookimpl
from pyramidion.api import api_view

MIB = 1024 * 1024

MALFORMED = {
    "multipart without boundary": ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1"),
    "multipart with an empty boundary": ("multipart/form-data; boundary=", b"--\r\n\r\n"),
    "truncated multipart": (
        "multipart/form-data; boundary=zz",
        b'--zz\r\nContent-Disposition: form-data; name="a"\r\n',
    ),
    "form in an unknown charset": ("application/x-www-form-urlencoded; charset=no-such-charset", b"username=%ff"),
    "form that is not UTF-8": ("application/x-www-form-urlencoded", b"username=\xff\xfe&password=\xc3"),
    "truncated JSON": ("application/json", b'{"username": "a'),
    "JSON that is not UTF-8": ("application/json", b'{"username": "\xff\xfe"}'),
    "not JSON at all": ("application/json", b"<xml/>"),
    "a JSON body sent as text": ("text/plain", b"\x00\x01\x02"),
}


def _example_path(path: str) -> str:
    """A concrete path for a documented one: ids become 1, choices their first value."""
    return re.sub(r"\{(\w+)\}", lambda m: "v1" if m.group(1) == "version" else "1", path)


def _unsafe_operations(app: TestApp) -> list[tuple[str, str]]:
    document = app.get("/api/openapi.json").json
    return [
        (method.upper(), _example_path(path))
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("post", "put", "patch")
    ]


def test_malformed_bodies_on_every_documented_operation_are_client_errors(app, make_user, login):
    operations = _unsafe_operations(app)
    assert ("POST", "/api/auth/token") in operations
    serial = itertools.count()
    crashes = []
    for (method, path), (case, (content_type, body)) in itertools.product(operations, MALFORMED.items()):
        for who in ("anonymous", "superuser"):
            headers = {} if who == "anonymous" else login(make_user(f"root{next(serial)}", superuser=True))
            response = app.request(
                path, method=method, body=body, headers={**headers, "Content-Type": content_type}, expect_errors=True
            )
            if not 400 <= response.status_int < 500:
                crashes.append(f"{method} {path} ({case}, {who}): {response.status}")
    assert not crashes, "\n".join(crashes)


@pytest.mark.parametrize(
    "case", ["multipart without boundary", "multipart with an empty boundary", "form in an unknown charset"]
)
def test_a_malformed_form_is_a_400_with_the_error_body(app, case):
    content_type, body = MALFORMED[case]
    response = app.post("/api/auth/token", body, headers={"Content-Type": content_type}, status=400)
    assert response.json["error"]["status"] == 400
    assert "malformed" in response.json["error"]["message"]


def test_a_malformed_form_is_a_400_outside_the_api_too(app):
    content_type, body = MALFORMED["multipart without boundary"]
    app.post("/console/login", body, headers={"Content-Type": content_type}, status=400)
    app.post("/no/such/page", body, headers={"Content-Type": content_type}, status=400)


def test_a_query_string_that_is_not_utf8_is_a_400(app, make_user, login):
    response = app.get("/api/users/directory?search=%ff%fe", headers=login(make_user("alice")), status=400)
    assert response.json["error"]["status"] == 400


# -- bounded input ------------------------------------------------------------------


class _Unreadable(io.RawIOBase):
    """A request body that must never be read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


def _call(wsgi: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        seen["status"] = status

    body = b"".join(wsgi(environ, start_response))
    return seen["status"], body


def _environ(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        **extra,
    }


def test_a_body_over_the_limit_is_a_413_before_it_is_read(app):
    environ = _environ("/api/auth/register", CONTENT_LENGTH=str(50 * MIB), **{"wsgi.input": _Unreadable()})
    status, body = _call(app.app, environ)
    assert status.startswith("413") and b"at most 1048576 bytes" in body


def test_a_big_json_body_is_refused_and_nothing_registered(app, db):
    padding = "x" * (2 * MIB)
    body = f'{{"username": "big", "email": "big@example.com", "password": "correct-horse-9", "p": "{padding}"}}'
    app.post("/api/auth/register", body, content_type="application/json", status=413)
    from pyramidion.auth import User

    assert db.query(User).count() == 0


def test_a_chunked_body_is_read_only_up_to_the_limit(app):
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            Endless.served += len(buffer)
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    environ = _environ("/api/auth/register", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": Endless()})
    status, _ = _call(app.app, environ)
    assert status.startswith("413")
    assert Endless.served <= MIB + 65536


def test_a_small_chunked_body_goes_through(app):
    body = b'{"username": "chunky", "email": "chunky@example.com", "password": "correct-horse-9"}'
    environ = _environ("/api/auth/register", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(body)})
    status, answer = _call(app.app, environ)
    assert status.startswith("201"), answer


def test_the_limit_is_a_setting(make_app):
    small = make_app(api__max_body_size="100")
    body = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-9", "first_name": "A" * 100}
    small.post_json("/api/auth/register", body, status=413)


class _Uploads:
    """A plugin with two upload routes: a fixed limit and one read from its settings."""

    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("uploads.big", "/big")
        config.add_route("uploads.configured", "/configured")
        config.registry.uploads_limit = 3 * MIB

        def receive(request: Any) -> dict[str, int]:
            return {"received": len(request.body)}

        config.add_api_view(receive, "uploads.big", request_method="POST", max_body_size=4 * MIB)
        config.add_api_view(
            receive,
            "uploads.configured",
            request_method="POST",
            max_body_size=lambda registry: registry.uploads_limit,
        )


def test_an_upload_view_raises_its_own_limit(make_app, make_user, login):
    app = make_app(extra_plugins=(("uploads", _Uploads()),))
    headers = login(make_user("alice"))
    two = b"x" * (2 * MIB)
    assert app.post("/api/uploads/big", two, headers=headers).json == {"received": 2 * MIB}
    app.post("/api/uploads/big", b"x" * (5 * MIB), headers=headers, status=413)
    assert app.post("/api/uploads/configured", two, headers=headers).json == {"received": 2 * MIB}
    app.post("/api/uploads/configured", b"x" * (3 * MIB + 1), headers=headers, status=413)
    app.post("/api/auth/register", two, headers=headers, status=413)  # other routes keep the default


def test_api_view_takes_max_body_size():
    @api_view("x", request_method="POST", max_body_size=10)
    def view(request: Any) -> None:
        """A view."""

    assert view.__name__ == "view"


# -- headers ----------------------------------------------------------------------


def test_every_answer_says_nosniff(app):
    for response in (
        app.get("/api/health", expect_errors=True),
        app.get("/api/no-such-thing", status=404),
        app.post("/api/auth/token", "{", content_type="application/json", status=400),
        app.get("/api/docs"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_answers_carrying_tokens_or_secrets_are_never_stored(app, make_user, login):
    make_user("alice")
    tokens = app.post_json("/api/auth/token", {"username": "alice", "password": "password123"})
    assert tokens.headers["Cache-Control"] == "no-store"
    refreshed = app.post_json("/api/auth/refresh", {"refresh": tokens.json["refresh"]})
    assert refreshed.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {refreshed.json['access']}"}
    key = app.post_json("/api/auth/api-keys", {"name": "ci", "paths": ["/api/*"]}, headers=headers, status=201)
    assert key.headers["Cache-Control"] == "no-store"
    assert app.get("/api/auth/me", headers=headers).headers["Cache-Control"] == "no-store"
    reset = app.post_json("/api/auth/password-reset", {"email": "nobody@example.com"}, status=202)
    assert reset.headers["Cache-Control"] == "no-store"


def test_html_pages_get_a_content_security_policy(app, registry):
    page = app.get("/api/docs")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert registry.realtime.config.websocket_url in policy["connect-src"].split()
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in app.get("/api/health", expect_errors=True).headers


def test_strict_transport_security_is_a_setting(make_app, app):
    assert "Strict-Transport-Security" not in app.get("/api/openapi.json").headers
    production = make_app(security__hsts_max_age="31536000", security__hsts_include_subdomains="true")
    answer = production.get("/api/openapi.json")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# -- one rule for trailing slashes; every path a README shows ------------------------

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"`((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*) (/api/[^` ?]*)")


def documented_paths() -> list[tuple[str, str]]:
    """Every ``METHOD /api/...`` a README of the core or a plugin shows, placeholders filled."""
    found = set()
    for readme in [ROOT / "README.md", *ROOT.glob("core/*/README.md"), *ROOT.glob("plugins/*/README.md")]:
        for methods, path in DOCUMENTED.findall(readme.read_text()):
            for method in methods.split("/"):
                found.add((method, _example_path(path)))
    return sorted(found)


def _route_missing(response) -> bool:
    """No route answered: a 405, or the router's own 404 (a view's 404 names what is missing)."""
    if response.status_int == 405:
        return True
    return response.status_int == 404 and response.json["error"]["message"] == "not found"


def test_every_path_a_readme_shows_answers_with_and_without_a_trailing_slash(app, make_user, login):
    paths = documented_paths()
    assert ("GET", "/api/users/directory") in paths and ("POST", "/api/auth/password") in paths
    headers = login(make_user("root", superuser=True))
    missing = []
    for method, path in paths:
        twin = path[:-1] if path.endswith("/") else path + "/"
        for candidate in (path, twin):
            response = app.request(
                candidate,
                method=method,
                body=b"{}",
                headers={**headers, "Content-Type": "application/json"},
                expect_errors=True,
            )
            if _route_missing(response):
                missing.append(f"{method} {candidate}: {response.status}")
    assert not missing, "\n".join(missing)


def test_a_trailing_slash_is_accepted_for_every_method(app, make_user, login):
    alice = make_user("alice")
    assert app.get("/api/auth/me/", headers=login(alice)).json["username"] == "alice"
    tokens = app.post_json("/api/auth/token/", {"username": "alice", "password": "password123"}).json
    assert app.get("/api/users/directory/", headers={"Authorization": f"Bearer {tokens['access']}"}).json["count"] == 1
    app.patch_json("/api/auth/me/", {"first_name": "Alice"}, headers=login(alice))
    assert app.get("/api/auth/me", headers=login(alice)).json["first_name"] == "Alice"


def test_a_path_that_exists_in_neither_form_stays_a_404(app):
    for path in ("/api/nothing", "/api/nothing/", "/api/auth/me//"):
        assert app.get(path, status=404).json["error"]["status"] == 404


# -- query parameters checked as documented ---------------------------------------


@pytest.mark.parametrize(
    "query", ["ordering=", "ordering=username,", "limit=", "limit=1_0", "limit=%EF%BC%95", "offset= 1", "search=a&x=1"]
)
def test_list_parameters_outside_the_document_are_refused(app, make_user, login, query):
    response = app.get(f"/api/users/directory?{query}", headers=login(make_user("alice")), status=422)
    assert response.json["error"]["details"][0]["location"] == "query"


class _Stamped:
    """A plugin listing with a timestamp filter."""

    @hookimpl
    def pyramidion_includeme(self, config):
        from sqlalchemy import select

        from pyramidion.api import Filter, Listing, Page, Timestamp
        from pyramidion.auth import User, UserRef

        listing = Listing(
            key=User.id,
            ordering={"id": User.id},
            default_ordering="id",
            filters={"since": Filter(User.created_at, Timestamp, "gte")},
        )
        config.add_route("stamped.users", "/users")
        config.add_api_view(
            lambda request, query: query.page(select(User)), "stamped.users", query=listing, response=Page[UserRef]
        )


@pytest.mark.parametrize("since", ["0.5", "1700000000", "2026-01-01T00:00:00"])
def test_a_timestamp_filter_takes_only_an_iso_date_time_with_a_zone(make_app, make_user, login, since):
    app = make_app(extra_plugins=(("stamped", _Stamped()),))
    response = app.get("/api/stamped/users", {"since": since}, headers=login(make_user("alice")), status=422)
    assert response.json["error"]["details"][0]["field"] == "since"
    assert (
        app.get("/api/stamped/users", {"since": "2000-01-01T00:00:00Z"}, headers=login(make_user("bob"))).json["count"]
        == 2
    )
