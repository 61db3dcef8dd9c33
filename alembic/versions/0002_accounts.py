"""accounts: comparison keys of usernames and emails, display names, password resets

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:45:00

Existing users get their keys computed here (NFKC and case folding, as
``pyramidion.auth.names`` does). Two existing users whose names or emails
differ only by case or by Unicode form cannot both keep them: the upgrade
stops, naming them, and changes nothing; rename or merge one and run it again.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Copies of pyramidion.auth.names as of this revision: a migration must keep
# doing what it did when it was written, whatever the code does later.
def _username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def _email_key(email: str) -> str:
    return email.strip().casefold()


def _keys(connection: sa.Connection) -> list[dict[str, object]]:
    users = connection.execute(sa.text("SELECT id, username, email FROM auth_user ORDER BY id")).all()
    rows = [
        {"user_id": id_, "username_key": _username_key(username), "email_key": _email_key(email)}
        for id_, username, email in users
    ]
    clashes = []
    for column, label in (("username_key", "username"), ("email_key", "email")):
        holders: dict[object, list[object]] = defaultdict(list)
        for row in rows:
            holders[row[column]].append(row["user_id"])
        clashes += [
            f"{label} {key!r}: users {', '.join(map(str, ids))}" for key, ids in holders.items() if len(ids) > 1
        ]
    if clashes:
        raise RuntimeError(
            "these users share a name or an email once case and Unicode forms are ignored; "
            "rename or merge them, then upgrade again: " + "; ".join(clashes)
        )
    return rows


def upgrade() -> None:
    connection = op.get_bind()
    keys = _keys(connection)

    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column("email_key", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("first_name", sa.String(length=150), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_name", sa.String(length=150), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("email_visible", sa.Boolean(), nullable=False, server_default=sa.false()))

    if keys:
        connection.execute(
            sa.text("UPDATE auth_user SET username_key = :username_key, email_key = :email_key WHERE id = :user_id"),
            keys,
        )

    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=150), nullable=False)
        batch_op.alter_column("email_key", existing_type=sa.String(length=254), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_auth_user_username_key"), ["username_key"])
        batch_op.create_unique_constraint(batch_op.f("uq_auth_user_email_key"), ["email_key"])

    op.create_table(
        "auth_password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name=op.f("fk_auth_password_reset_user_id_auth_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_password_reset")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_password_reset_token_hash")),
    )
    with op.batch_alter_table("auth_password_reset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_password_reset_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_password_reset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_password_reset_user_id"))
    op.drop_table("auth_password_reset")
    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_auth_user_email_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_auth_user_username_key"), type_="unique")
        batch_op.drop_column("email_visible")
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
        batch_op.drop_column("email_key")
        batch_op.drop_column("username_key")
