"""Credential changes end sessions; my own password change; reset by email through a real SMTP server.

The mail goes through ``pyramidion.mail`` to an aiosmtpd server on loopback;
retries go through a real (SQLite) Huey queue worked by a consumer thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import select, update

from pyramidion.auth.models import PasswordReset, User
from pyramidion.auth.models import Session as AuthSession
from pyramidion.testing.mail import Mailbox

ME = "/api/auth/me"
GOOD = "correct-horse-9"
NEWER = "battery-staple-7"


@pytest.fixture
def mail_settings(mailbox: Mailbox) -> dict[str, str]:
    return {"mail__host": "127.0.0.1", "mail__port": str(mailbox.port), "mail__sender": "noreply@example.com"}


@pytest.fixture
def mail_app(make_app, mail_settings):
    return make_app(**mail_settings)


def log_in(app, username: str, password: str = "password123", **kwargs) -> dict[str, Any]:
    return app.post_json("/api/auth/token", {"username": username, "password": password}, **kwargs).json


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access']}"}


def assert_logged_out(app, tokens: dict[str, Any]) -> None:
    """Neither the access token nor the refresh token of ``tokens`` works any more."""
    app.get(ME, headers=bearer(tokens), status=401)
    app.post_json("/api/auth/refresh", {"refresh": tokens["refresh"]}, status=401)


def assert_logged_in(app, tokens: dict[str, Any]) -> None:
    app.get(ME, headers=bearer(tokens), status=200)


# -- credential changes by an administrator ---------------------------------


def test_an_administrators_password_change_ends_every_session_of_the_user(app, make_user, login, db):
    admin, alice = make_user("root", superuser=True), make_user("alice")
    first, second = log_in(app, "alice"), log_in(app, "alice")
    console = login(alice)  # a session row as a console login makes one
    app.patch_json(f"/api/users/{alice.id}", {"password": GOOD}, headers=login(admin))
    assert_logged_out(app, first)
    assert_logged_out(app, second)
    app.get(ME, headers=console, status=401)
    log_in(app, "alice", "password123", status=401)
    assert_logged_in(app, log_in(app, "alice", GOOD))
    db.rollback()
    reasons = set(db.scalars(select(AuthSession.revoked_reason).where(AuthSession.user_id == alice.id)))
    assert "password changed by an administrator" in reasons


def test_an_administrators_password_change_follows_the_password_rules(app, make_user, login):
    admin, alice = make_user("root", superuser=True), make_user("alice")
    tokens = log_in(app, "alice")
    for weak in ("password", "ALICE", "qwertyuiop"):
        response = app.patch_json(f"/api/users/{alice.id}", {"password": weak}, headers=login(admin), status=422)
        assert [d["field"] for d in response.json["error"]["details"]] == ["password"]
    assert_logged_in(app, tokens)  # nothing changed


def test_deactivation_ends_sessions_and_reactivation_does_not_bring_them_back(app, make_user, login):
    admin, alice = make_user("root", superuser=True), make_user("alice")
    tokens = log_in(app, "alice")
    app.patch_json(f"/api/users/{alice.id}", {"is_active": False}, headers=login(admin))
    app.patch_json(f"/api/users/{alice.id}", {"is_active": True}, headers=login(admin))
    assert_logged_out(app, tokens)
    assert_logged_in(app, log_in(app, "alice"))


# -- my own password ----------------------------------------------------------


def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(app, make_user):
    make_user("alice")
    here, elsewhere = log_in(app, "alice"), log_in(app, "alice")
    app.post_json("/api/auth/password", {"old_password": "password123", "new_password": GOOD}, headers=bearer(here))
    assert_logged_in(app, here)
    assert_logged_out(app, elsewhere)
    log_in(app, "alice", "password123", status=401)
    assert_logged_in(app, log_in(app, "alice", GOOD))
    # The kept session's refresh token still rotates.
    app.post_json("/api/auth/refresh", {"refresh": here["refresh"]}, status=200)


def test_changing_my_password_needs_the_old_one_and_counts_wrong_ones(make_app, make_user):
    app = make_app(auth__login_max_failures="3")
    make_user("alice")
    tokens = log_in(app, "alice")
    for _ in range(3):
        wrong = app.post_json(
            "/api/auth/password",
            {"old_password": "guess-guess", "new_password": GOOD},
            headers=bearer(tokens),
            status=422,
        )
        assert [d["field"] for d in wrong.json["error"]["details"]] == ["old_password"]
    limited = app.post_json(
        "/api/auth/password", {"old_password": "password123", "new_password": GOOD}, headers=bearer(tokens), status=429
    )
    assert "Retry-After" in limited.headers
    assert_logged_in(app, tokens)


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short", "String should have at least 8 characters"),
        ("iloveyou", "is one of the most common passwords; choose another"),
        ("Password1", "is one of the most common passwords; choose another"),
    ],
)
def test_my_new_password_follows_the_same_rules_as_registration(app, make_user, new_password, message):
    make_user("alice")
    tokens = log_in(app, "alice")
    response = app.post_json(
        "/api/auth/password",
        {"old_password": "password123", "new_password": new_password},
        headers=bearer(tokens),
        status=422,
    )
    assert response.json["error"]["details"][0] | {"message": message} == response.json["error"]["details"][0]
    assert response.json["error"]["details"][0]["field"] == "new_password"
    log_in(app, "alice", "password123", status=200)  # unchanged


def test_my_new_password_may_not_be_my_username_in_any_form(app, make_user):
    make_user("alice.smith")
    tokens = log_in(app, "alice.smith")
    for same in ("alice.smith", "ALICE.SMITH", "ａｌｉｃｅ.ｓｍｉｔｈ"):
        response = app.post_json(
            "/api/auth/password",
            {"old_password": "password123", "new_password": same},
            headers=bearer(tokens),
            status=422,
        )
        assert response.json["error"]["details"][0]["message"] == "must not be the username"


def test_an_api_key_cannot_change_the_password(app, make_user, login):
    alice = make_user("alice")
    key = app.post_json("/api/auth/api-keys", {"name": "k", "paths": ["/api/*"]}, headers=login(alice)).json["key"]
    body = {"old_password": "password123", "new_password": GOOD}
    app.post_json("/api/auth/password", body, headers={"X-API-Key": key}, status=403)
    app.post_json("/api/auth/password", body, status=401)


# -- reset by email -------------------------------------------------------------


def reset_token(message: Message) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(r"^([A-Za-z0-9_-]{40,})\r?$", body, re.MULTILINE).group(1)


def test_a_reset_is_mailed_once_used_and_ends_every_session(mail_app, mailbox, make_user, db):
    alice = make_user("alice", email="Alice@Example.com")
    tokens = log_in(mail_app, "alice")
    mail_app.post_json("/api/auth/password-reset", {"email": "ALICE@example.COM"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    message = mailbox.messages[0]
    assert message["To"] == "Alice@Example.com" and message["From"] == "noreply@example.com"
    token = reset_token(message)
    db.rollback()
    stored = db.scalars(select(PasswordReset.token_hash).where(PasswordReset.user_id == alice.id)).all()
    assert len(stored) == 1 and token not in stored[0]  # kept hashed

    mail_app.post_json("/api/auth/password-reset/confirm", {"token": token, "password": GOOD}, status=204)
    assert_logged_out(mail_app, tokens)
    assert_logged_in(mail_app, log_in(mail_app, "alice", GOOD))
    again = mail_app.post_json("/api/auth/password-reset/confirm", {"token": token, "password": NEWER}, status=422)
    assert again.json["error"]["details"][0]["field"] == "token"
    log_in(mail_app, "alice", GOOD, status=200)


def test_a_reset_answers_the_same_whether_or_not_the_address_exists(mail_app, mailbox, make_user):
    make_user("alice")
    unknown = mail_app.post_json("/api/auth/password-reset", {"email": "nobody@example.com"}, status=202)
    known = mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    assert unknown.json == known.json
    assert dict(unknown.headers).keys() == dict(known.headers).keys()
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    assert [m["To"] for m in mailbox.messages] == ["alice@example.com"]


def test_a_reset_of_an_inactive_user_sends_nothing(mail_app, mailbox, make_user):
    make_user("alice", active=False)
    mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    assert mailbox.attempts == 0


def test_an_expired_or_forged_reset_token_is_refused_and_changes_nothing(mail_app, mailbox, make_user, db):
    make_user("alice")
    mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    token = reset_token(mailbox.messages[0])
    db.execute(update(PasswordReset).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.commit()
    for candidate in (token, "x" * 43):
        mail_app.post_json("/api/auth/password-reset/confirm", {"token": candidate, "password": GOOD}, status=422)
    log_in(mail_app, "alice", "password123", status=200)


def test_a_reset_follows_the_password_rules_and_keeps_the_token_for_another_try(mail_app, mailbox, make_user):
    make_user("alice")
    mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    token = reset_token(mailbox.messages[0])
    weak = mail_app.post_json("/api/auth/password-reset/confirm", {"token": token, "password": "alice"}, status=422)
    assert weak.json["error"]["details"][0]["field"] == "password"
    common = mail_app.post_json(
        "/api/auth/password-reset/confirm", {"token": token, "password": "1234567890"}, status=422
    )
    assert common.json["error"]["details"][0]["field"] == "password"
    mail_app.post_json("/api/auth/password-reset/confirm", {"token": token, "password": GOOD}, status=204)


def test_changing_the_password_spends_outstanding_reset_tokens(mail_app, mailbox, make_user):
    make_user("alice")
    mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    token = reset_token(mailbox.messages[0])
    tokens = log_in(mail_app, "alice")
    body = {"old_password": "password123", "new_password": GOOD}
    mail_app.post_json("/api/auth/password", body, headers=bearer(tokens), status=204)
    mail_app.post_json("/api/auth/password-reset/confirm", {"token": token, "password": NEWER}, status=422)


def test_reset_requests_are_limited_per_address(make_app, mail_settings, mailbox, make_user):
    app = make_app(auth__password_reset_max_requests="2", **mail_settings)
    make_user("alice")
    for _ in range(2):
        app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    limited = app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=429)
    assert "Retry-After" in limited.headers
    mailbox.wait_for(lambda box: len(box.messages) == 2)


def test_the_reset_mail_carries_the_configured_link(make_app, mail_settings, mailbox, make_user):
    app = make_app(auth__password_reset_url="https://bar.example.com/reset?token={token}", **mail_settings)
    make_user("alice")
    app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    body = mailbox.messages[0].get_payload(decode=True).decode()
    assert re.search(r"https://bar\.example\.com/reset\?token=[A-Za-z0-9_-]{40,}", body)


# -- the mail service: retries through a real queue, one line per failure --------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.gave_up = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.name == "pyramidion.mail" and record.levelno >= logging.ERROR:
            self.gave_up.set()


@pytest.fixture
def queued_mail_app(make_app, mail_settings, tmp_path):
    """An app with a real (SQLite) queue, short retry delays, and a consumer thread working it."""
    app = make_app(huey__url=f"sqlite:///{tmp_path / 'queue.sqlite'}", mail__retry_delay="0.1", **mail_settings)
    huey = app.app.registry.huey
    consumer = huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, initial_delay=0.05, backoff=1, max_delay=0.05
    )
    records = _Records()
    loggers = [logging.getLogger("pyramidion.mail"), logging.getLogger("huey")]
    for logger in loggers:
        logger.addHandler(records)
    consumer.start()
    app.records = records
    yield app
    consumer.stop(graceful=True)
    for logger in loggers:
        logger.removeHandler(records)


def test_a_failed_delivery_is_retried_and_logged_in_one_line_without_traceback(queued_mail_app, mailbox, make_user):
    make_user("alice")
    mailbox.fail_first = 2
    queued_mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    assert mailbox.attempts == 3
    records = queued_mail_app.records.records
    ours = [r for r in records if r.name == "pyramidion.mail"]
    assert len(ours) == 2 and all("retrying in 0.1 s" in r.getMessage() for r in ours)
    assert not any(r.exc_info for r in records), "a traceback was logged"


def test_after_three_retries_the_mail_is_dropped_with_one_line(queued_mail_app, mailbox, make_user):
    make_user("alice")
    mailbox.fail_first = 1000
    queued_mail_app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    assert queued_mail_app.records.gave_up.wait(30), "the failure was never logged"
    assert mailbox.attempts == 4  # the first try and three retries
    final = [r for r in queued_mail_app.records.records if r.levelno >= logging.ERROR]
    assert (
        len(final) == 1 and "failed for good" in final[0].getMessage() and "alice@example.com" in final[0].getMessage()
    )
    assert not any(r.exc_info for r in queued_mail_app.records.records)
    huey = queued_mail_app.app.registry.huey
    assert (huey.pending_count(), huey.scheduled_count()) == (0, 0)


def test_the_mailer_is_a_service_a_plugin_or_test_can_swap(make_app, make_user):
    from pyramidion import hookimpl
    from pyramidion.mail import IMailer, Mail

    sent: list[Mail] = []

    class Recorder:
        def send(self, mail: Mail) -> None:
            sent.append(mail)

    class SwapMailer:
        @hookimpl
        def pyramidion_includeme(self, config):
            config.register_service(Recorder(), IMailer)

    app = make_app(extra_plugins=(("swapmailer", SwapMailer()),))
    make_user("alice")
    app.post_json("/api/auth/password-reset", {"email": "alice@example.com"}, status=202)
    assert [(m.to, m.subject) for m in sent] == [(("alice@example.com",), "Reset your password")]


def test_users_created_without_the_api_are_found_by_their_keys(app, make_user, db):
    make_user("Bob.Smith", email="Bob@Example.com")
    assert db.scalar(select(User.username_key).where(User.username == "Bob.Smith")) == "bob.smith"
    assert_logged_in(app, log_in(app, "BOB.SMITH"))
