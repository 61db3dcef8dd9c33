"""auth_revision: the value web processes watch to forget cached identities

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 13:00:00

One row, changed by every write that may change someone's access (see
``pyramidion.auth.cache``); it is written on the first such change.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_revision")),
    )


def downgrade() -> None:
    op.drop_table("auth_revision")
