"""Identities cached per process (pyramidion.auth.cache): revocations reach every process within the bound.

The other web process is a real one: a waitress server started here on the
same database (SQLite file, or PostgreSQL on the second pass), so nothing but
the database carries a revocation from one process to the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from me_logins_plugin import Logins  # tests/core, on sys.path as the folder of this test
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.auth.models import APIKey, User
from pyramidion.testing import free_port, recorded_statements, wait_for

ME = "/api/auth/me"
BOUND = 3  # seconds: auth.identity_cache_seconds (1 s) with room for a loaded machine

SERVE = """
import json, os, sys
from waitress import serve
from pyramidion import make_app
from me_logins_plugin import Logins
plugins = [("logins", Logins())] if os.environ.get("WITH_LOGINS") else []
serve(make_app(json.loads(os.environ["PYRAMIDION_SETTINGS"]), plugins), host="127.0.0.1", port=int(sys.argv[1]), threads=2)
"""


class Process:
    """Another web process of the platform, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def me(self, token: str) -> int:
        return self.get_me(token).status_code

    def get_me(self, token: str) -> requests.Response:
        return requests.get(self.url + ME, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def post(self, path: str, body: dict[str, Any], **headers: str) -> requests.Response:
        return requests.post(self.url + path, json=body, headers=headers, timeout=10)


@pytest.fixture
def other_process(request: pytest.FixtureRequest, base_settings: dict[str, Any], _config: Any) -> Iterator[Process]:
    """The other web process; with ``@pytest.mark.parametrize("other_process", ["logins"], indirect=True)``
    it has the :class:`Logins` plugin too."""
    port = free_port()
    env = {
        **os.environ,
        "PYRAMIDION_SETTINGS": json.dumps(base_settings),
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]),
        "WITH_LOGINS": "1" if getattr(request, "param", None) == "logins" else "",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    process = Process(f"http://127.0.0.1:{port}")
    try:
        wait_for(
            lambda: requests.get(process.url + "/api/", timeout=5).ok,
            timeout=60,
            ignoring=(requests.ConnectionError,),
            message="the other web process to start",
        )
        yield process
    finally:
        server.terminate()
        server.wait(timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(app: Any, username: str) -> dict[str, str]:
    return app.post_json("/api/auth/token", {"username": username, "password": "password123"}).json


def refused_within_bound(process: Process, token: str, status: int = 401) -> None:
    wait_for(lambda: process.me(token) == status, timeout=BOUND, message=f"the other process to answer {status}")


def test_a_logout_in_one_process_is_refused_by_the_other_within_the_bound(app, make_user, other_process):
    make_user("alice")
    tokens = log_in(app, "alice")
    assert other_process.me(tokens["access"]) == 200  # verified and cached there
    assert other_process.me(tokens["access"]) == 200  # served from its cache
    app.post_json("/api/auth/logout", {"refresh": tokens["refresh"]}, status=204)
    assert app.get(ME, headers=bearer(tokens["access"]), status=401)  # at once where it happened
    refused_within_bound(other_process, tokens["access"])


def test_a_logout_in_the_other_process_is_refused_here_within_the_bound(app, make_user, other_process):
    make_user("alice")
    tokens = log_in(app, "alice")
    assert app.get(ME, headers=bearer(tokens["access"])).status_int == 200  # cached in this process
    assert other_process.post("/api/auth/logout", {"refresh": tokens["refresh"]}).status_code == 204
    wait_for(
        lambda: app.get(ME, headers=bearer(tokens["access"]), expect_errors=True).status_int == 401,
        timeout=BOUND,
        message="this process to refuse the token logged out elsewhere",
    )


def test_a_deactivation_is_refused_by_the_other_process_within_the_bound(app, make_user, login, other_process):
    alice = make_user("alice")
    admin = login(make_user("root", superuser=True))
    token = log_in(app, "alice")["access"]
    assert other_process.me(token) == 200
    app.patch_json(f"/api/users/{alice.id}", {"is_active": False}, headers=admin)
    refused_within_bound(other_process, token)


def test_a_permission_taken_away_is_refused_by_the_other_process_within_the_bound(app, make_user, login, other_process):
    make_user("alice", permissions=["auth.admin"])
    token = log_in(app, "alice")["access"]
    users = other_process.url + "/api/users"
    assert requests.get(users, headers=bearer(token), timeout=10).status_code == 200
    admin = login(make_user("root", superuser=True))
    group = app.get("/api/groups", headers=admin).json[0]
    assert group["name"] == "alice-grants"
    app.patch_json(f"/api/groups/{group['id']}", {"permissions": []}, headers=admin)
    wait_for(
        lambda: requests.get(users, headers=bearer(token), timeout=10).status_code == 403,
        timeout=BOUND,
        message="the other process to refuse a permission taken away",
    )


def test_a_cached_identity_costs_no_query_and_a_change_shows_at_once(app, make_user, registry):
    make_user("alice", permissions=["auth.admin"])
    headers = bearer(log_in(app, "alice")["access"])
    app.get(ME, headers=headers)
    with recorded_statements(registry.db_engine) as ran:
        again = app.get(ME, headers=headers).json
    assert not [sql for sql in ran if "auth_session" in sql or "auth_group" in sql]  # plugins' own /me queries remain
    assert again["permissions"] == ["auth.admin"]
    app.patch_json(ME, {"first_name": "Alice"}, headers=headers)
    assert app.get(ME, headers=headers).json["display_name"] == "Alice"


def test_a_cached_token_is_refused_once_it_expires(make_app, make_user):
    app = make_app(jwt__access_ttl="1", jwt__leeway="0")
    make_user("alice")
    headers = bearer(log_in(app, "alice")["access"])
    assert app.get(ME, headers=headers).status_int == 200
    wait_for(
        lambda: app.get(ME, headers=headers, expect_errors=True).status_int == 401,
        timeout=5,
        message="the expired token to be refused",
    )


def test_an_api_key_is_cached_still_stamped_and_refused_once_revoked(app, make_user, login, db):
    headers = login(make_user("alice"))
    created = app.post_json("/api/auth/api-keys", {"name": "till", "paths": ["/api/auth/me"]}, headers=headers).json
    key = {"X-API-Key": created["key"]}
    assert app.get(ME, headers=key).json["username"] == "alice"
    assert app.get(ME, headers=key).json["username"] == "alice"
    assert db.scalar(select(APIKey.last_used_at).where(APIKey.id == created["id"])) is not None
    app.delete(f"/api/auth/api-keys/{created['id']}", headers=headers, status=204)
    assert app.get(ME, headers=key, status=401)


def test_without_the_cache_every_request_reads_the_login(make_app, make_user, login):
    app = make_app(auth__identity_cache_seconds="0")
    headers = login(make_user("alice"))
    app.get(ME, headers=headers)
    with recorded_statements(app.app.registry.db_engine) as ran:
        app.get(ME, headers=headers)
    assert any("auth_session" in statement for statement in ran)


class _Visits:
    """A plugin whose GETs write: one through a flush, one leaving its change to the commit."""

    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("visits.flushed", "/flushed")
        config.add_route("visits.unflushed", "/unflushed")

        def rename(request: Any, flush: bool) -> dict[str, str]:
            user = request.identity.user
            user.first_name = "Flushed" if flush else "Unflushed"
            if flush:
                request.db.flush()
            return {"ok": "yes"}

        config.add_api_view(lambda request: rename(request, True), "visits.flushed")
        config.add_api_view(lambda request: rename(request, False), "visits.unflushed")


def test_a_safe_request_that_writes_commits_with_or_without_a_flush(make_app, make_user, login, db):
    app = make_app(extra_plugins=(("visits", _Visits()),))
    alice = make_user("alice")
    headers = login(alice)

    def first_name() -> str:
        db.rollback()
        return db.scalar(select(User.first_name).where(User.id == alice.id))

    app.get("/api/visits/flushed", headers=headers)
    assert first_name() == "Flushed"
    app.get("/api/visits/unflushed", headers=headers)
    assert first_name() == "Unflushed"
    assert app.get(ME, headers=headers).json["first_name"] == "Unflushed"  # the cache forgot the old row


def test_me_of_the_core_alone_reads_the_cached_copy_and_shows_a_change_at_once(make_app, make_user):
    app = make_app(pyramidion__plugins__enabled="tasks")  # no plugin adds to /me
    make_user("alice", permissions=["auth.admin"])
    headers = bearer(log_in(app, "alice")["access"])
    app.get(ME, headers=headers)
    with recorded_statements(app.app.registry.db_engine) as ran:
        seen = app.get(ME, headers=headers).json
    assert ran == []  # not even a BEGIN
    assert (seen["username"], seen["groups"], seen["permissions"]) == (
        "alice",
        ["alice-grants"],
        ["auth.admin"],
    )
    app.patch_json(ME, {"last_name": "Liddell"}, headers=headers)
    assert app.get(ME, headers=headers).json["display_name"] == "Liddell"


def test_me_with_what_plugins_add_is_kept_and_a_change_here_shows_at_once(make_app, make_user):
    app = make_app(extra_plugins=(("logins", Logins()),))
    make_user("alice")
    headers = bearer(log_in(app, "alice")["access"])
    assert app.get(ME, headers=headers).json["logins"] == 1
    with recorded_statements(app.app.registry.db_engine) as ran:
        kept = app.get(ME, headers=headers)
    assert ran == []
    assert kept.json["logins"] == 1 and kept.headers["ETag"]
    assert app.get(ME, headers={**headers, "If-None-Match": kept.headers["ETag"]}, status=304).body == b""
    log_in(app, "alice")  # committed in this process: the kept answer is dropped
    assert app.get(ME, headers=headers).json["logins"] == 2


@pytest.mark.parametrize("other_process", ["logins"], indirect=True)
def test_me_shows_a_change_made_by_another_process_within_the_bound(make_app, make_user, other_process):
    app = make_app(extra_plugins=(("logins", Logins()),))
    make_user("alice")
    token = log_in(app, "alice")["access"]
    assert other_process.get_me(token).json()["logins"] == 1  # kept there now
    log_in(app, "alice")
    wait_for(
        lambda: other_process.get_me(token).json()["logins"] == 2,
        timeout=BOUND,
        message="the other process's /me to show the second login",
    )
