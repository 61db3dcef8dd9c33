"""staff void rentals: who, when and why; a voided loan no longer holds its book

Revision ID: rentals_0002
Revises: rentals_0001
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "rentals_0002"
down_revision = "rentals_0001"
branch_labels = None
depends_on = None

OPEN_BEFORE = "returned_at IS NULL"
OPEN_NOW = "returned_at IS NULL AND voided_at IS NULL"


def _open_loan_index(where: str) -> None:
    op.create_index(
        "uq_rentals_rental_open_book",
        "rentals_rental",
        ["book_id"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    # The partial index is made again by hand on both sides of the batch:
    # SQLite's copy of the table would not keep its WHERE clause.
    op.drop_index("uq_rentals_rental_open_book", table_name="rentals_rental")
    with op.batch_alter_table("rentals_rental") as batch:
        batch.add_column(sa.Column("voided_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.String(length=500), nullable=True))
        batch.create_foreign_key(
            op.f("fk_rentals_rental_voided_by_id_auth_user"),
            "auth_user",
            ["voided_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(
            op.f("ck_rentals_rental_voided_with_reason"), "(voided_at IS NULL) = (void_reason IS NULL)"
        )
    _open_loan_index(OPEN_NOW)


def downgrade() -> None:
    # A voided rental counts nowhere: without the columns that say so it
    # would count again, so it goes.
    op.execute("DELETE FROM rentals_rental WHERE voided_at IS NOT NULL")
    op.drop_index("uq_rentals_rental_open_book", table_name="rentals_rental")
    with op.batch_alter_table("rentals_rental") as batch:
        batch.drop_constraint(op.f("ck_rentals_rental_voided_with_reason"), type_="check")
        batch.drop_constraint(op.f("fk_rentals_rental_voided_by_id_auth_user"), type_="foreignkey")
        batch.drop_column("void_reason")
        batch.drop_column("voided_by_id")
        batch.drop_column("voided_at")
    _open_loan_index(OPEN_BEFORE)
