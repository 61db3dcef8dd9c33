"""books, rentals, renter profiles

Revision ID: rentals_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "rentals_0001"
down_revision = None
branch_labels = ("rentals",)
depends_on = None


def book_type() -> sa.Enum:
    return sa.Enum(
        "regular", "fiction", "novel", name="book_type", native_enum=False, create_constraint=True, length=20
    )


def upgrade() -> None:
    op.create_table(
        "rentals_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("type", book_type(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rentals_book")),
        sa.UniqueConstraint("name", name=op.f("uq_rentals_book_name")),
    )
    op.create_table(
        "rentals_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("updated_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_rentals_profile_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_rentals_profile")),
    )
    op.create_table(
        "rentals_rental",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("book_type", book_type(), nullable=False),
        sa.Column("rented_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "returned_at IS NULL OR returned_at >= rented_at", name=op.f("ck_rentals_rental_returned_after_rented")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["rentals_book.id"], name=op.f("fk_rentals_rental_book_id_rentals_book"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["auth_user.id"],
            name=op.f("fk_rentals_rental_recorded_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_rentals_rental_user_id_auth_user"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rentals_rental")),
    )
    op.create_index(op.f("ix_rentals_rental_book_id"), "rentals_rental", ["book_id"])
    op.create_index(op.f("ix_rentals_rental_rented_at"), "rentals_rental", ["rented_at"])
    op.create_index(op.f("ix_rentals_rental_user_id"), "rentals_rental", ["user_id"])
    # One open rental per book: the database refuses a second loan of a book out.
    op.create_index(
        "uq_rentals_rental_open_book",
        "rentals_rental",
        ["book_id"],
        unique=True,
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("rentals_rental")
    op.drop_table("rentals_profile")
    op.drop_table("rentals_book")
