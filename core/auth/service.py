"""Logins, token rotation, API keys: the rules, apart from the HTTP views."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from sqlalchemy import select, update

from ..db import utcnow
from ..settings import Section, section
from .models import APIKey, RefreshToken, Session, User
from .secrets import hash_secret
from .throttle import Throttle


class AuthSettings(Section):
    registration_open: bool = True
    login_max_failures: int = Field(10, gt=0, description="failed logins per user or address in the window")
    login_window: int = Field(900, gt=0, description="seconds")
    password_time_cost: int = Field(2, ge=1)
    password_memory_cost: int = Field(19456, ge=8, description="KiB")


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


def login_throttle(request: Any) -> Throttle:
    config: AuthSettings = request.registry.auth_settings
    return Throttle("login", config.login_max_failures, config.login_window)


def authenticate(request: Any, username: str, password: str) -> User | None:
    """The user for these credentials: plugin identity sources first, then the local password."""
    user = request.registry.pm.hook.pyramidion_authenticate(request=request, username=username, password=password)
    if user is None:
        candidate = request.db.scalar(select(User).where(User.username == username))
        user = candidate if request.registry.passwords.verify(candidate, password) else None
    if user is None or not user.is_active:
        return None
    return user


def _new_refresh(request: Any, session_id: str) -> str:
    token = secrets.token_urlsafe(32)
    ttl = request.registry.token_codec.config.refresh_ttl
    request.db.add(
        RefreshToken(
            session_id=session_id, token_hash=hash_secret(token), expires_at=utcnow() + dt.timedelta(seconds=ttl)
        )
    )
    return token


def token_pair(request: Any, user: User, session_id: str) -> dict[str, Any]:
    codec = request.registry.token_codec
    return {
        "access": codec.access_token(user.id, session_id, username=user.username),
        "refresh": _new_refresh(request, session_id),
        "token_type": "Bearer",
        "expires_in": codec.config.access_ttl,
    }


def start_session(request: Any, user: User) -> dict[str, Any]:
    session = Session(id=uuid.uuid4().hex, user_id=user.id)
    request.db.add(session)
    user.last_login = utcnow()
    request.db.flush()
    return token_pair(request, user, session.id)


class RefreshRejected(Exception):
    pass


def revoke_session(db: Any, session_id: str, reason: str) -> None:
    db.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def rotate(request: Any, refresh: str) -> dict[str, Any]:
    """Exchange a refresh token for a new pair; a token used twice revokes its whole family.

    Raises :class:`RefreshRejected`; the caller must still commit, so that a
    revocation for reuse sticks.
    """
    db = request.db
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh)))
    if row is None:
        raise RefreshRejected("unknown refresh token")
    session = db.get(Session, row.session_id)
    if session.revoked_at is not None:
        raise RefreshRejected("session revoked")
    now = utcnow()
    # Marking it used is a conditional update, so of two concurrent uses of
    # the same token exactly one wins and the other counts as reuse.
    won = db.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if not won:
        revoke_session(db, session.id, "refresh token reused")
        raise RefreshRejected("refresh token already used; the session is revoked")
    if row.expires_at <= now:
        raise RefreshRejected("refresh token expired")
    user = db.get(User, session.user_id)
    if not user.is_active:
        raise RefreshRejected("user disabled")
    return token_pair(request, user, session.id)


def logout(request: Any, refresh: str) -> bool:
    row = request.db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh)))
    if row is None:
        return False
    revoke_session(request.db, row.session_id, "logout")
    return True


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
