"""greetings

Revision ID: hello_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hello_greeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", pyramidion.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["auth_user.id"], name=op.f("fk_hello_greeting_author_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_greeting")),
    )


def downgrade() -> None:
    op.drop_table("hello_greeting")
