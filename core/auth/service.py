"""Logins, token rotation, passwords, API keys: the rules, apart from the HTTP views.

The API views and the console pages call the same functions here, so both
apply one set of rules: :func:`check_password` (what a password may be),
:func:`change_password` (the user's own), :func:`set_password` (an
administrator's), :func:`revoke_sessions` (what every credential change and a
deactivation do), :func:`request_password_reset` and :func:`reset_password`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import secrets
import uuid
from collections.abc import Iterable
from importlib import resources
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm.attributes import set_committed_value

from ..api.errors import Invalid
from ..db import utcnow
from ..mail import send_mail
from ..request import Request
from ..settings import Section, section
from .cache import REVISION_NEUTRAL, IdentityCache
from .models import APIKey, PasswordReset, RefreshToken, Session, User
from .names import email_key, username_key
from .secrets import hash_secret
from .throttle import Throttle

log = logging.getLogger(__name__)


class AuthSettings(Section):
    registration_open: bool = True
    login_max_failures: int = Field(10, gt=0, description="failed logins per user or address in the window")
    login_window: int = Field(900, gt=0, description="seconds")
    password_time_cost: int = Field(2, ge=1)
    password_memory_cost: int = Field(19456, ge=8, description="KiB")
    password_reset_ttl: int = Field(3600, gt=0, description="seconds a password reset token lives")
    password_reset_url: str = Field(
        "", description="link mailed for a reset, with {token} where the token goes; empty: the token itself"
    )
    password_reset_max_requests: int = Field(
        5, gt=0, description="reset requests per email address or client address per window"
    )
    identity_cache_seconds: float = Field(
        1.0, ge=0, description="how stale a process's cached identities may be; 0: no cache"
    )


class Passwords:
    def __init__(self, config: AuthSettings) -> None:
        self.hasher = PasswordHasher(time_cost=config.password_time_cost, memory_cost=config.password_memory_cost)
        # Verified against when the user does not exist, so timing does not tell.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, user: User | None, password: str) -> bool:
        stored = user.password_hash if user is not None else None
        try:
            self.hasher.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return stored is not None


PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024


def _changed_rows(db: Any, statement: Any) -> int:
    """How many rows an UPDATE changed: the conditional updates below tell a winner by it."""
    result: CursorResult[Any] = db.execute(statement)
    return result.rowcount


def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords, lower-cased (``data/README.md`` names the source)."""
    data = resources.files(__package__).joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password(password: str, username: str, field: str = "password") -> None:
    """Raise :class:`Invalid` (422 naming ``field``) unless ``password`` may be ``username``'s password.

    Registration, an administrator's change, the user's own change and a reset
    all apply it: 8 to 1024 characters, not the username (whatever the case or
    Unicode form), not one of the most common passwords.
    """
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise Invalid.field(field, f"must have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters")
    if username_key(password) == username_key(username):
        raise Invalid.field(field, "must not be the username")
    if password.lower() in common_passwords():
        raise Invalid.field(field, "is one of the most common passwords; choose another")


def login_throttle(request: Request) -> Throttle:
    config: AuthSettings = request.registry.auth_settings
    return Throttle("login", config.login_max_failures, config.login_window)


def authenticate(request: Request, username: str, password: str) -> User | None:
    """The user for these credentials: plugin identity sources first, then the local password."""
    user = request.registry.pm.hook.pyramidion_authenticate(request=request, username=username, password=password)
    if user is None:
        candidate = request.db.scalar(select(User).where(User.username_key == username_key(username)))
        user = candidate if request.registry.passwords.verify(candidate, password) else None
    if user is None or not user.is_active:
        return None
    return user


def _new_refresh(request: Request, session_id: str) -> str:
    token = secrets.token_urlsafe(32)
    ttl = request.registry.token_codec.config.refresh_ttl
    request.db.add(
        RefreshToken(
            session_id=session_id, token_hash=hash_secret(token), expires_at=utcnow() + dt.timedelta(seconds=ttl)
        )
    )
    return token


def token_pair(request: Request, user: User, session_id: str) -> dict[str, Any]:
    codec = request.registry.token_codec
    return {
        "access": codec.access_token(user.id, session_id, username=user.username),
        "refresh": _new_refresh(request, session_id),
        "token_type": "Bearer",
        "expires_in": codec.config.access_ttl,
    }


def start_session(request: Request, user: User) -> dict[str, Any]:
    session = Session(id=uuid.uuid4().hex, user_id=user.id)
    request.db.add(session)
    record_login(request.db, user)
    request.db.flush()
    return token_pair(request, user, session.id)


def record_login(db: Any, user: User) -> None:
    """Stamp ``user.last_login``; no cached identity holds it, so it leaves them all valid."""
    now = utcnow()
    db.execute(update(User).where(User.id == user.id).values(last_login=now).execution_options(**REVISION_NEUTRAL))
    set_committed_value(user, "last_login", now)


class RefreshRejected(Exception):
    pass


def revoke_session(db: Any, session_id: str, reason: str) -> None:
    db.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def rotate(request: Request, refresh: str) -> dict[str, Any]:
    """Exchange a refresh token for a new pair; a token used twice revokes its whole family.

    Raises :class:`RefreshRejected`; the caller must still commit, so that a
    revocation for reuse sticks.
    """
    db = request.db
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh)))
    if row is None:
        raise RefreshRejected("unknown refresh token")
    session = row.session
    if session.revoked_at is not None:
        raise RefreshRejected("session revoked")
    now = utcnow()
    # Marking it used is a conditional update, so of two concurrent uses of
    # the same token exactly one wins and the other counts as reuse.
    won = _changed_rows(
        db, update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None)).values(used_at=now)
    )
    if not won:
        revoke_session(db, session.id, "refresh token reused")
        raise RefreshRejected("refresh token already used; the session is revoked")
    if row.expires_at <= now:
        raise RefreshRejected("refresh token expired")
    user = db.get(User, session.user_id)
    if user is None or not user.is_active:
        raise RefreshRejected("user disabled")
    return token_pair(request, user, session.id)


def logout(request: Request, refresh: str) -> bool:
    row = request.db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh)))
    if row is None:
        return False
    revoke_session(request.db, row.session_id, "logout")
    return True


# WAMP topic on which the backend session hears that a user's sessions ended;
# it then ends the user's sessions on the router (see pyramidion.realtime).
SESSIONS_REVOKED_TOPIC = "pyramidion.realtime.sessions_revoked"


def revoke_sessions(request: Request, user_id: int, reason: str, keep: str | None = None) -> int:
    """End every session of the user but ``keep`` (the caller's own, if any); returns how many.

    Refresh chains, the access tokens of them and console logins all end, at
    once, in every process (each request checks its session). Once the
    transaction commits, the user's WAMP sessions are ended on the router too;
    a client whose session was kept joins again with its token.
    """
    stmt = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    ended = _changed_rows(request.db, stmt.values(revoked_at=utcnow(), revoked_reason=reason))
    request.realtime.publish(SESSIONS_REVOKED_TOPIC, user_id, reason)
    return ended


def set_password(
    request: Request, user: User, password: str, reason: str = "password changed by an administrator"
) -> None:
    """Give ``user`` a new password (checked by :func:`check_password`) and end all their sessions."""
    check_password(password, user.username)
    user.password_hash = request.registry.passwords.hash(password)
    _spend_password_resets(request.db, user.id)
    revoke_sessions(request, user.id, reason)


def deactivate(request: Request, user: User) -> None:
    """Deactivate ``user``: they can no longer log in, and every session of theirs ends."""
    user.is_active = False
    revoke_sessions(request, user.id, "user deactivated")


class WrongPassword(Invalid):
    """The old password given to :func:`change_password` is wrong (422 on ``old_password``).

    Render it by returning a response rather than letting it propagate, so the
    failed attempt recorded against guessing is committed.
    """

    def __init__(self) -> None:
        super().__init__(
            "old_password: wrong password",
            [{"field": "old_password", "location": "body", "message": "wrong password"}],
        )


def change_password(
    request: Request, user: User, old_password: str, new_password: str, keep_session: str | None = None
) -> None:
    """The user's own change: the old password is required; their other sessions end.

    A wrong old password counts as a failed login (:func:`login_throttle`), so
    a stolen session cannot be used to guess it; raises :class:`WrongPassword`
    or :class:`TooManyAttempts`.
    """
    throttle = login_throttle(request)
    throttle.check(request.db, user.username, request.client_addr)
    if not request.registry.passwords.verify(user, old_password):
        throttle.record(request.db, user.username, request.client_addr)
        raise WrongPassword()
    check_password(new_password, user.username, field="new_password")
    user.password_hash = request.registry.passwords.hash(new_password)
    _spend_password_resets(request.db, user.id)
    revoke_sessions(request, user.id, "password changed", keep=keep_session)


def password_reset_throttle(request: Request) -> Throttle:
    config: AuthSettings = request.registry.auth_settings
    return Throttle("password-reset", config.password_reset_max_requests, config.login_window)


def request_password_reset(request: Request, email: str) -> None:
    """Mail a single-use, expiring reset token to the active user with this email, if any.

    The caller answers the same whether or not the address exists. Requests
    are counted per address and per client (raising :class:`TooManyAttempts`),
    so nobody mails someone a flood of resets; the caller commits the count.
    """
    key = email_key(email)
    throttle = password_reset_throttle(request)
    throttle.check(request.db, key, request.client_addr)
    throttle.record(request.db, key, request.client_addr)
    user = request.db.scalar(select(User).where(User.email_key == key, User.is_active.is_(True)))
    if user is None:
        log.info("password reset asked for %r, which is no active user's address; nothing sent", email)
        return
    config: AuthSettings = request.registry.auth_settings
    token = secrets.token_urlsafe(32)
    request.db.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hash_secret(token),
            expires_at=utcnow() + dt.timedelta(seconds=config.password_reset_ttl),
        )
    )
    minutes = max(config.password_reset_ttl // 60, 1)
    if config.password_reset_url:
        how = f"Open this link to choose a new password:\n\n{config.password_reset_url.format(token=token)}"
    else:
        how = (
            "Send this token with your new password to POST /api/auth/password-reset/confirm "
            f'as {{"token": "...", "password": "..."}}:\n\n{token}'
        )
    body = (
        f"Hello {user.display_name},\n\n"
        f"someone (we hope you) asked to reset the password of {user.username}.\n"
        f"{how}\n\n"
        f"It works once, within {minutes} minutes. If you did not ask for it, ignore this mail: "
        "your password stays as it is.\n"
    )
    send_mail(request, to=[user.email], subject="Reset your password", body=body)


class ResetRefused(Invalid):
    """The reset token is unknown, spent, expired, or its user inactive (422 on ``token``)."""

    def __init__(self) -> None:
        message = "invalid, used or expired reset token"
        super().__init__(f"token: {message}", [{"field": "token", "location": "body", "message": message}])


def reset_password(request: Request, token: str, password: str) -> User:
    """Set a new password with a reset token; the token is spent and every session of the user ends."""
    db = request.db
    reset = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_secret(token)))
    now = utcnow()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise ResetRefused()
    user = db.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise ResetRefused()
    check_password(password, user.username)
    # Spent with a conditional update: of two concurrent uses exactly one wins.
    won = _changed_rows(
        db,
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if not won:
        raise ResetRefused()
    user.password_hash = request.registry.passwords.hash(password)
    _spend_password_resets(db, user.id)
    revoke_sessions(request, user.id, "password reset")
    return user


def _spend_password_resets(db: Any, user_id: int) -> None:
    """Outstanding reset tokens of the user stop working once the password changed."""
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def create_api_key(db: Any, user: User, name: str, paths: list[str]) -> tuple[APIKey, str]:
    """A new key; the secret is returned once and only its hash is kept."""
    prefix = secrets.token_hex(6)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    api_key = APIKey(name=name, user=user, prefix=prefix, key_hash=hash_secret(secret), paths=paths)
    db.add(api_key)
    db.flush()
    return api_key, secret


def includeme(config: Any) -> None:
    settings = section(config.get_settings(), "auth", AuthSettings)
    config.registry.auth_settings = settings
    config.registry.passwords = Passwords(settings)
    config.registry.identity_cache = IdentityCache(config.registry.db_engine, settings.identity_cache_seconds)


def users_by_username(db: Any, usernames: Iterable[str]) -> dict[str, User]:
    """The active users of ``usernames``, by the name as given; names of nobody are left out.

    Names are compared as logins are (case and Unicode form ignored), so
    ``{"Bob": <User bob>}``; a caller answers 422 for each name missing here.
    """
    wanted = {name: username_key(name) for name in usernames}
    if not wanted:
        return {}
    found = {
        user.username_key: user
        for user in db.scalars(
            select(User).where(User.username_key.in_(set(wanted.values())), User.is_active.is_(True))
        )
    }
    return {name: found[key] for name, key in wanted.items() if key in found}
