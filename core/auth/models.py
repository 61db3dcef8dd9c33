"""Users, groups, sessions (refresh-token families), API keys, login attempts.

Plugins share one declarative registry, so a plugin may well have a class
called ``Group`` too: references here are to the classes themselves, never
to class names in strings.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db import Base, UTCDateTime, utcnow
from .names import email_key, username_key


def display_name(first_name: str, last_name: str, username: str) -> str:
    """How a user is shown: first and last name, or the username when they gave neither."""
    return " ".join(part for part in (first_name, last_name) if part) or username


class User(Base):
    """A person. ``username_key`` and ``email_key`` (see :mod:`.names`) are what
    uniqueness is checked on; they follow ``username`` and ``email`` by themselves."""

    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    username_key: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    # Whether the user directory shows the email to other members.
    email_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    groups: Mapped[list[Group]] = relationship(
        secondary="auth_user_group", back_populates="users", order_by=lambda: Group.name
    )

    @validates("username")
    def _keep_username_key(self, _key: str, username: str) -> str:
        self.username_key = username_key(username)
        return username

    @validates("email")
    def _keep_email_key(self, _key: str, email: str) -> str:
        self.email_key = email_key(email)
        return email

    @property
    def display_name(self) -> str:
        """First and last name, or the username when the user gave neither."""
        return display_name(self.first_name, self.last_name, self.username)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


class Group(Base):
    __tablename__ = "auth_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    users: Mapped[list[User]] = relationship(secondary="auth_user_group", back_populates="groups")
    grants: Mapped[list[GroupPermission]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: GroupPermission.permission
    )

    @property
    def permissions(self) -> list[str]:
        return [grant.permission for grant in self.grants]


class UserGroup(Base):
    __tablename__ = "auth_user_group"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True)


class GroupPermission(Base):
    __tablename__ = "auth_group_permission"

    group_id: Mapped[int] = mapped_column(ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class Session(Base):
    """One login: the family of refresh tokens that rotate from it.

    Access tokens name their session (``sid``); revoking the session (logout,
    or a refresh token presented twice) ends every token of the family, in
    every web process: each request checks it here, through the process's
    cache, which a revocation clears within ``auth.identity_cache_seconds``.
    """

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(100))


class PasswordReset(Base):
    """A password reset asked for by email: single-use, expiring, only its SHA-256 kept."""

    __tablename__ = "auth_password_reset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    __tablename__ = "auth_refresh_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_session.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[Session] = relationship()


class APIKey(Base):
    """A long-lived key acting as ``user``, only on paths matching ``paths``.

    Only a SHA-256 of the key is kept: the key is random and long, so a fast
    hash is as safe as a slow one here, and it is checked on every request.
    """

    __tablename__ = "auth_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    paths: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class FailedAttempt(Base):
    """A refused attempt (a login, a plugin's credentials), see :mod:`.throttle`."""

    __tablename__ = "auth_failed_attempt"
    __table_args__ = (
        Index("ix_auth_failed_attempt_scope_name_at", "scope", "name", "at"),
        Index("ix_auth_failed_attempt_scope_address_at", "scope", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Revision(Base):
    """One row whose value changes with every write that may change someone's access.

    Web processes cache identities and read it, at most once a second, to know
    when to forget them (see :mod:`pyramidion.auth.cache`).
    """

    __tablename__ = "auth_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
