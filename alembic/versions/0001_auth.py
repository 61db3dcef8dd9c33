"""users, groups, sessions, API keys, failed attempts

Revision ID: 0001
Revises:
Create Date: 2026-11-20 22:11:59.230254
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:

    op.create_table(
        "auth_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_group")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_group_name")),
    )
    op.create_table(
        "auth_failed_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failed_attempt")),
    )
    with op.batch_alter_table("auth_failed_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_auth_failed_attempt_scope_address_at", ["scope", "address", "at"], unique=False)
        batch_op.create_index("ix_auth_failed_attempt_scope_name_at", ["scope", "name", "at"], unique=False)

    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
        sa.UniqueConstraint("email", name=op.f("uq_auth_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )
    op.create_table(
        "auth_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_auth_api_key_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_auth_api_key_prefix")),
    )
    with op.batch_alter_table("auth_api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_api_key_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auth_group_permission",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["auth_group.id"],
            name=op.f("fk_auth_group_permission_group_id_auth_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "permission", name=op.f("pk_auth_group_permission")),
    )
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_auth_session_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auth_user_group",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["auth_group.id"], name=op.f("fk_auth_user_group_group_id_auth_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_auth_user_group_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_auth_user_group")),
    )
    op.create_table(
        "auth_refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("fk_auth_refresh_token_session_id_auth_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_refresh_token_token_hash")),
    )
    with op.batch_alter_table("auth_refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_refresh_token_session_id"), ["session_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("auth_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_refresh_token_session_id"))

    op.drop_table("auth_refresh_token")
    op.drop_table("auth_user_group")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_user_id"))

    op.drop_table("auth_session")
    op.drop_table("auth_group_permission")
    with op.batch_alter_table("auth_api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_api_key_user_id"))

    op.drop_table("auth_api_key")
    op.drop_table("auth_user")
    with op.batch_alter_table("auth_failed_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_failed_attempt_scope_name_at")
        batch_op.drop_index("ix_auth_failed_attempt_scope_address_at")

    op.drop_table("auth_failed_attempt")
    op.drop_table("auth_group")
