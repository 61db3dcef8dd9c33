"""Every way in and every way out: registration, tokens, refresh, logout, API keys, login limits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import jwt
import pytest
from sqlalchemy import func, select

from pyramidion.auth.models import APIKey, FailedAttempt, User
from pyramidion.auth.models import Session as AuthSession

ME = "/api/auth/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(app, username: str, password: str = "password123", **kwargs):
    return app.post_json("/api/auth/token", {"username": username, "password": password}, **kwargs)


def assert_unauthorized(response) -> None:
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["status"] == 401


# -- registration --------------------------------------------------------------


def test_register_creates_an_account_that_can_log_in(app, db):
    created = app.post_json(
        "/api/auth/register",
        {"username": "alice", "email": "alice@example.com", "password": "correct-horse-9"},
        status=201,
    )
    assert created.json == {"id": created.json["id"], "username": "alice", "email": "alice@example.com"}
    stored = db.get(User, created.json["id"])
    assert stored.password_hash.startswith("$argon2") and "correct-horse-9" not in stored.password_hash
    assert stored.is_active and not stored.is_superuser
    db.rollback()  # end the read: on SQLite an open transaction holds the write lock
    tokens = log_in(app, "alice", "correct-horse-9").json
    assert app.get(ME, headers=bearer(tokens["access"])).json["username"] == "alice"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "email": "other@example.com", "password": "correct-horse-9"}, "username"),
        ({"username": "other", "email": "alice@example.com", "password": "correct-horse-9"}, "email"),
    ],
)
def test_register_refuses_a_taken_username_or_email(app, make_user, db, body, field):
    make_user("alice")
    response = app.post_json("/api/auth/register", body, status=409)
    assert [d["field"] for d in response.json["error"]["details"]] == [field]
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_register_names_every_bad_field(app, db):
    response = app.post_json(
        "/api/auth/register", {"username": "no spaces", "email": "not-an-email", "password": "short"}, status=422
    )
    error = response.json["error"]
    assert error["status"] == 422
    assert sorted(d["field"] for d in error["details"]) == ["email", "password", "username"]
    assert all(d["location"] == "body" and d["message"] for d in error["details"])
    missing = app.post_json("/api/auth/register", {}, status=422).json["error"]["details"]
    assert sorted(d["field"] for d in missing) == ["email", "password", "username"]
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_registration_can_be_closed(make_app):
    closed = make_app(auth__registration_open="false")
    refused = closed.post_json(
        "/api/auth/register", {"username": "bob", "email": "bob@example.com", "password": "correct-horse-9"}, status=403
    )
    assert refused.json["error"]["message"] == "registration is closed"


# -- logging in ----------------------------------------------------------------


def test_token_by_json_and_by_form(app, make_user, db):
    make_user("alice")
    by_json = log_in(app, "alice").json
    assert by_json["token_type"] == "Bearer" and by_json["expires_in"] > 0
    by_form = app.post("/api/auth/token", {"username": "alice", "password": "password123"}).json
    for tokens in (by_json, by_form):
        assert app.get(ME, headers=bearer(tokens["access"])).json["username"] == "alice"
    assert db.get(User, db.scalar(select(User.id))).last_login is not None


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong-password"), ("nobody", "password123")])
def test_wrong_credentials_are_401(app, make_user, username, password):
    make_user("alice")
    response = log_in(app, username, password, status=401)
    assert_unauthorized(response)
    assert response.json["error"]["message"] == "wrong username or password"  # the same for both: no user enumeration


def test_anonymous_on_a_protected_endpoint_is_401_with_bearer_challenge(app):
    assert_unauthorized(app.get(ME, status=401))
    assert_unauthorized(app.get(ME, headers={"Authorization": "Basic YWxpY2U6eA=="}, status=401))


# -- access tokens that must not work -------------------------------------------


@pytest.fixture
def alice(make_user, db):
    user = make_user("alice")
    session = AuthSession(id=uuid.uuid4().hex, user_id=user.id)
    db.add(session)
    db.commit()
    return user, session.id


def claims(registry, user_id: int, session_id: str, **changes) -> dict:
    """The claims of a valid access token, with ``changes`` applied."""
    config = registry.token_codec.config
    now = int(dt.datetime.now(dt.UTC).timestamp())
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "iss": config.issuer,
        "aud": config.audience,
        "typ": "access",
        "iat": now,
        "exp": now + 300,
    }
    payload.update(changes)
    return payload


def test_a_hand_made_valid_token_works(app, registry, alice):
    # The baseline for the tests below: each changes one thing of this token.
    user, sid = alice
    token = jwt.encode(claims(registry, user.id, sid), registry.token_codec.config.secret, algorithm="HS256")
    assert app.get(ME, headers=bearer(token)).json["id"] == user.id


def test_expired_token_is_refused(app, registry, alice):
    user, sid = alice
    an_hour_ago = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
    token = jwt.encode(
        claims(registry, user.id, sid, iat=an_hour_ago, exp=an_hour_ago + 900),
        registry.token_codec.config.secret,
        algorithm="HS256",
    )
    assert_unauthorized(app.get(ME, headers=bearer(token), status=401))


def test_tampered_token_is_refused(app, registry, alice, make_user):
    user, sid = alice
    root = make_user("root", superuser=True)
    genuine = registry.token_codec.access_token(user.id, sid)
    header, _, signature = genuine.split(".")
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims(registry, root.id, sid)).encode()).decode()
    assert_unauthorized(app.get(ME, headers=bearer(f"{header}.{forged_payload}.{signature}"), status=401))
    assert_unauthorized(app.get(ME, headers=bearer(genuine[:-4] + "AAAA"), status=401))


# The forger's short key, on purpose (newer PyJWT warns).
@pytest.mark.filterwarnings("ignore:The HMAC key is:UserWarning")
def test_wrong_algorithm_with_the_same_secret_is_refused(app, registry, alice):
    user, sid = alice
    token = jwt.encode(claims(registry, user.id, sid), registry.token_codec.config.secret, algorithm="HS512")
    assert_unauthorized(app.get(ME, headers=bearer(token), status=401))


def test_alg_none_is_refused(app, registry, alice):
    user, sid = alice
    token = jwt.encode(claims(registry, user.id, sid), None, algorithm="none")
    assert token.endswith(".")  # unsigned
    assert_unauthorized(app.get(ME, headers=bearer(token), status=401))


@pytest.mark.parametrize(("claim", "value"), [("aud", "some-other-api"), ("iss", "someone-else"), ("typ", "robot")])
def test_wrong_audience_issuer_or_kind_is_refused(app, registry, alice, claim, value):
    user, sid = alice
    token = jwt.encode(
        claims(registry, user.id, sid, **{claim: value}), registry.token_codec.config.secret, algorithm="HS256"
    )
    assert_unauthorized(app.get(ME, headers=bearer(token), status=401))


def test_token_without_a_known_session_is_refused(app, registry, alice):
    user, _ = alice
    token = registry.token_codec.access_token(user.id, uuid.uuid4().hex)
    assert_unauthorized(app.get(ME, headers=bearer(token), status=401))


def test_refresh_token_is_not_an_access_token(app, make_user):
    make_user("alice")
    tokens = log_in(app, "alice").json
    assert_unauthorized(app.get(ME, headers=bearer(tokens["refresh"]), status=401))


# -- refresh, rotation, logout ----------------------------------------------------


def test_refresh_rotates_and_a_used_refresh_token_is_rejected(app, make_user):
    make_user("alice")
    first = log_in(app, "alice").json
    second = app.post_json("/api/auth/refresh", {"refresh": first["refresh"]}).json
    assert second["refresh"] != first["refresh"] and second["access"] != first["access"]
    assert app.get(ME, headers=bearer(second["access"])).json["username"] == "alice"
    third = app.post_json("/api/auth/refresh", {"refresh": second["refresh"]}).json
    assert app.get(ME, headers=bearer(third["access"])).json["username"] == "alice"


def test_reusing_a_refresh_token_revokes_the_whole_chain(app, make_user, db):
    make_user("alice")
    first = log_in(app, "alice").json
    second = app.post_json("/api/auth/refresh", {"refresh": first["refresh"]}).json
    # Someone replays the first refresh token (stolen, say): the chain is revoked...
    assert_unauthorized(app.post_json("/api/auth/refresh", {"refresh": first["refresh"]}, status=401))
    # ...so the legitimate holder's newer tokens stop working too.
    assert_unauthorized(app.get(ME, headers=bearer(second["access"]), status=401))
    assert_unauthorized(app.post_json("/api/auth/refresh", {"refresh": second["refresh"]}, status=401))
    assert db.scalar(select(AuthSession.revoked_reason)) == "refresh token reused"
    db.rollback()
    # A fresh login is a new chain and works.
    fresh = log_in(app, "alice").json
    assert app.get(ME, headers=bearer(fresh["access"])).status_int == 200


def test_unknown_refresh_token_is_401(app):
    assert_unauthorized(app.post_json("/api/auth/refresh", {"refresh": "made-up"}, status=401))


def test_logout_revokes_the_session_for_every_process(app, make_app, make_user):
    make_user("alice")
    tokens = log_in(app, "alice").json
    other_process = make_app()
    assert other_process.get(ME, headers=bearer(tokens["access"])).status_int == 200
    app.post_json("/api/auth/logout", {"refresh": tokens["refresh"]}, status=204)
    assert_unauthorized(app.get(ME, headers=bearer(tokens["access"]), status=401))
    assert_unauthorized(other_process.get(ME, headers=bearer(tokens["access"]), status=401))
    assert_unauthorized(app.post_json("/api/auth/refresh", {"refresh": tokens["refresh"]}, status=401))


def test_logout_leaves_other_logins_alone(app, make_user):
    make_user("alice")
    phone, laptop = log_in(app, "alice").json, log_in(app, "alice").json
    app.post_json("/api/auth/logout", {"refresh": phone["refresh"]}, status=204)
    assert app.get(ME, headers=bearer(laptop["access"])).status_int == 200


# -- disabled users --------------------------------------------------------------


def test_disabled_user_loses_access_and_cannot_log_in(app, make_user, login):
    make_user("alice")
    admin = login(make_user("root", superuser=True))
    tokens = log_in(app, "alice").json
    alice_id = app.get(ME, headers=bearer(tokens["access"])).json["id"]
    app.patch_json(f"/api/users/{alice_id}", {"is_active": False}, headers=admin)
    assert_unauthorized(app.get(ME, headers=bearer(tokens["access"]), status=401))
    assert_unauthorized(app.post_json("/api/auth/refresh", {"refresh": tokens["refresh"]}, status=401))
    assert_unauthorized(log_in(app, "alice", status=401))
    app.patch_json(f"/api/users/{alice_id}", {"is_active": True}, headers=admin)
    assert log_in(app, "alice").status_int == 200


# -- API keys --------------------------------------------------------------------


def test_api_key_is_shown_once_stored_hashed_and_acts_as_its_user(app, make_user, login, db):
    headers = login(make_user("alice"))
    created = app.post_json(
        "/api/auth/api-keys", {"name": "till", "paths": ["/api/auth/me"]}, headers=headers, status=201
    ).json
    key = created["key"]
    assert created["last_used_at"] is None and created["revoked_at"] is None
    stored = db.get(APIKey, created["id"])
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (stored.key_hash, stored.prefix)
    db.rollback()
    listed = app.get("/api/auth/api-keys", headers=headers).json
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]

    assert app.get(ME, headers={"X-API-Key": key}).json["username"] == "alice"
    assert db.get(APIKey, created["id"]).last_used_at is not None
    db.rollback()
    assert app.get("/api/auth/api-keys", headers=headers).json[0]["last_used_at"] is not None


def test_api_key_is_refused_outside_its_paths(app, make_user, login):
    headers = login(make_user("alice", superuser=True))
    key = app.post_json(
        "/api/auth/api-keys", {"name": "users only", "paths": ["/api/users*"]}, headers=headers, status=201
    ).json["key"]
    assert app.get("/api/users", headers={"X-API-Key": key}).json["count"] == 1
    refused = app.get(ME, headers={"X-API-Key": key}, status=403)
    assert refused.json["error"]["message"] == "this API key is not valid for this path"
    # A key cannot mint keys, not even where its paths allow.
    everywhere = app.post_json(
        "/api/auth/api-keys", {"name": "all", "paths": ["/api/*"]}, headers=headers, status=201
    ).json["key"]
    app.post_json(
        "/api/auth/api-keys", {"name": "child", "paths": ["/api/*"]}, headers={"X-API-Key": everywhere}, status=403
    )


def test_revoked_or_wrong_api_key_is_401(app, make_user, login):
    headers = login(make_user("alice"))
    created = app.post_json(
        "/api/auth/api-keys", {"name": "till", "paths": ["/api/*"]}, headers=headers, status=201
    ).json
    prefix, _, secret = created["key"].partition(".")
    assert_unauthorized(app.get(ME, headers={"X-API-Key": f"{prefix}.{secret[::-1]}"}, status=401))
    app.delete(f"/api/auth/api-keys/{created['id']}", headers=headers, status=204)
    assert_unauthorized(app.get(ME, headers={"X-API-Key": created["key"]}, status=401))
    assert app.get("/api/auth/api-keys", headers=headers).json[0]["revoked_at"] is not None


def test_api_key_of_a_disabled_user_stops_working(app, make_user, login, db):
    user = make_user("alice")
    key = app.post_json(
        "/api/auth/api-keys", {"name": "till", "paths": ["/api/*"]}, headers=login(user), status=201
    ).json["key"]
    db.get(User, user.id).is_active = False
    db.commit()
    assert_unauthorized(app.get(ME, headers={"X-API-Key": key}, status=401))


def test_api_key_paths_are_validated(app, make_user, login):
    headers = login(make_user("alice"))
    response = app.post_json("/api/auth/api-keys", {"name": "", "paths": ["relative/*"]}, headers=headers, status=422)
    assert sorted(d["field"] for d in response.json["error"]["details"]) == ["name", "paths"]
    app.post_json("/api/auth/api-keys", {"name": "none", "paths": []}, headers=headers, status=422)


# -- login rate limiting -----------------------------------------------------------


@pytest.fixture
def limited(make_app):
    """An app allowing 3 failed logins per user and per address in the window."""
    return make_app(auth__login_max_failures="3")


def from_address(address: str) -> dict:
    return {"extra_environ": {"REMOTE_ADDR": address}}


def test_failed_logins_for_one_username_are_limited_from_any_address(limited, make_user, db):
    make_user("alice")
    for n in range(3):
        log_in(limited, "alice", "wrong-password", status=401, **from_address(f"10.0.0.{n}"))
    refused = log_in(limited, "alice", "password123", status=429, **from_address("10.0.0.9"))
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["status"] == 429
    # Another user from a fresh address is not affected.
    make_user("bob")
    assert log_in(limited, "bob", **from_address("10.0.1.1")).status_int == 200
    assert db.scalar(select(func.count()).select_from(FailedAttempt).where(FailedAttempt.name == "alice")) == 3


def test_failed_logins_from_one_address_are_limited_for_any_username(limited, make_user):
    make_user("alice")
    for name in ("x", "y", "z"):
        log_in(limited, name, "guess", status=401, **from_address("192.0.2.7"))
    log_in(limited, "alice", **from_address("192.0.2.7"), status=429)
    assert log_in(limited, "alice", **from_address("192.0.2.8")).status_int == 200


def test_login_limit_is_shared_between_processes(limited, make_app, make_user):
    make_user("alice")
    for _ in range(3):
        log_in(limited, "alice", "wrong-password", status=401)
    another_process = make_app(auth__login_max_failures="3")
    log_in(another_process, "alice", status=429)


def test_username_and_address_failures_are_counted_apart(limited, make_user):
    make_user("alice")
    for _ in range(2):
        log_in(limited, "alice", "wrong-password", status=401, **from_address("198.51.100.1"))
        log_in(limited, "mallory", "guess", status=401, **from_address("198.51.100.2"))
    # Two failures for alice, two from this address: neither count reached 3.
    assert log_in(limited, "alice", **from_address("198.51.100.2")).status_int == 200
