"""Bar: wallets and ledger, catalogue and stock, purchases, cycles, events, online payments.

Revision ID: bar_0001
Revises:
Create Date: 2026-11-20 22:15:16.549189
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "bar_0001"
down_revision = None
branch_labels = ("bar",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bar_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_category")),
        sa.UniqueConstraint("name", name=op.f("uq_bar_category_name")),
    )
    op.create_table(
        "bar_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registration_opens_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registration_closes_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_event")),
    )
    op.create_table(
        "bar_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "pieces",
                "litres",
                "kilograms",
                name="bar_stock_unit",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_stock")),
        sa.UniqueConstraint("name", name=op.f("uq_bar_stock_name")),
    )
    op.create_table(
        "bar_holder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_bar_holder_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_holder")),
        sa.UniqueConstraint("member_id", name=op.f("uq_bar_holder_member_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_bar_holder_user_id")),
    )
    op.create_table(
        "bar_personnel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nickname", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_bar_personnel_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_personnel")),
        sa.UniqueConstraint("user_id", name=op.f("uq_bar_personnel_user_id")),
    )
    op.create_table(
        "bar_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("image", sa.String(length=500), nullable=True),
        sa.Column("units", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("stock_id", sa.Integer(), nullable=True),
        sa.Column("ledger_account", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["stock_id"], ["bar_stock.id"], name=op.f("fk_bar_product_stock_id_bar_stock"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_product")),
        sa.UniqueConstraint("name", name=op.f("uq_bar_product_name")),
    )
    with op.batch_alter_table("bar_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_product_stock_id"), ["stock_id"], unique=False)

    op.create_table(
        "bar_stock_mutation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stock_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["auth_user.id"],
            name=op.f("fk_bar_stock_mutation_created_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stock_id"], ["bar_stock.id"], name=op.f("fk_bar_stock_mutation_stock_id_bar_stock"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_stock_mutation")),
    )
    with op.batch_alter_table("bar_stock_mutation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_stock_mutation_stock_id"), ["stock_id"], unique=False)

    op.create_table(
        "bar_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["bar_holder.id"], name=op.f("fk_bar_card_holder_id_bar_holder"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_card")),
        sa.UniqueConstraint("card_id", name=op.f("uq_bar_card_card_id")),
    )
    with op.batch_alter_table("bar_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_card_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "bar_category_product",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["bar_category.id"],
            name=op.f("fk_bar_category_product_category_id_bar_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["bar_product.id"],
            name=op.f("fk_bar_category_product_product_id_bar_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "product_id", name=op.f("pk_bar_category_product")),
    )
    op.create_table(
        "bar_online_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("identifier", sa.String(length=32), nullable=False),
        sa.Column("mollie_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("credited_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["bar_holder.id"],
            name=op.f("fk_bar_online_payment_holder_id_bar_holder"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_online_payment")),
        sa.UniqueConstraint("identifier", name=op.f("uq_bar_online_payment_identifier")),
        sa.UniqueConstraint("mollie_id", name=op.f("uq_bar_online_payment_mollie_id")),
    )
    with op.batch_alter_table("bar_online_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_online_payment_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "bar_purchase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column(
            "payment_method",
            sa.Enum(
                "wallet", "cash", "pin", name="bar_payment_method", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["bar_holder.id"], name=op.f("fk_bar_purchase_holder_id_bar_holder"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["bar_personnel.id"],
            name=op.f("fk_bar_purchase_seller_id_bar_personnel"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_purchase")),
    )
    with op.batch_alter_table("bar_purchase", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_purchase_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bar_purchase_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bar_purchase_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "bar_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "registered",
                "charged",
                "unpaid",
                name="bar_registration_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("charged_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["bar_event.id"], name=op.f("fk_bar_registration_event_id_bar_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["bar_holder.id"], name=op.f("fk_bar_registration_holder_id_bar_holder"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_registration")),
        sa.UniqueConstraint("event_id", "holder_id", name=op.f("uq_bar_registration_event_id_holder_id")),
    )
    with op.batch_alter_table("bar_registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_registration_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bar_registration_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "bar_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("open", "close", name="bar_report_action", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("personnel_id", sa.Integer(), nullable=False),
        sa.Column("cash", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("flow_meter_1", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("flow_meter_2", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["personnel_id"],
            ["bar_personnel.id"],
            name=op.f("fk_bar_report_personnel_id_bar_personnel"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_report")),
    )
    op.create_table(
        "bar_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opening_report_id", sa.Integer(), nullable=False),
        sa.Column("closing_report_id", sa.Integer(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closing_report_id"],
            ["bar_report.id"],
            name=op.f("fk_bar_cycle_closing_report_id_bar_report"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["opening_report_id"],
            ["bar_report.id"],
            name=op.f("fk_bar_cycle_opening_report_id_bar_report"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_cycle")),
        sa.UniqueConstraint("closing_report_id", name=op.f("uq_bar_cycle_closing_report_id")),
        sa.UniqueConstraint("is_open", name=op.f("uq_bar_cycle_is_open")),
        sa.UniqueConstraint("opening_report_id", name=op.f("uq_bar_cycle_opening_report_id")),
    )
    op.create_table(
        "bar_ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "purchase",
                "top_up",
                "refund",
                "online_top_up",
                "event_charge",
                name="bar_ledger_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("balance_after", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "wallet", "cash", "pin", name="bar_ledger_method", native_enum=False, create_constraint=True, length=20
            ),
            nullable=True,
        ),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("online_payment_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["auth_user.id"],
            name=op.f("fk_bar_ledger_entry_created_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["bar_holder.id"], name=op.f("fk_bar_ledger_entry_holder_id_bar_holder"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["online_payment_id"],
            ["bar_online_payment.id"],
            name=op.f("fk_bar_ledger_entry_online_payment_id_bar_online_payment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["bar_purchase.id"],
            name=op.f("fk_bar_ledger_entry_purchase_id_bar_purchase"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["bar_registration.id"],
            name=op.f("fk_bar_ledger_entry_registration_id_bar_registration"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_ledger_entry")),
        sa.UniqueConstraint("online_payment_id", name=op.f("uq_bar_ledger_entry_online_payment_id")),
        sa.UniqueConstraint("purchase_id", name=op.f("uq_bar_ledger_entry_purchase_id")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_bar_ledger_entry_registration_id")),
    )
    with op.batch_alter_table("bar_ledger_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_ledger_entry_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bar_ledger_entry_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "bar_purchase_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["bar_product.id"],
            name=op.f("fk_bar_purchase_line_product_id_bar_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["bar_purchase.id"],
            name=op.f("fk_bar_purchase_line_purchase_id_bar_purchase"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_purchase_line")),
    )
    with op.batch_alter_table("bar_purchase_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bar_purchase_line_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bar_purchase_line_purchase_id"), ["purchase_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bar_purchase_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_purchase_line_purchase_id"))
        batch_op.drop_index(batch_op.f("ix_bar_purchase_line_product_id"))

    op.drop_table("bar_purchase_line")
    with op.batch_alter_table("bar_ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_ledger_entry_holder_id"))
        batch_op.drop_index(batch_op.f("ix_bar_ledger_entry_created_at"))

    op.drop_table("bar_ledger_entry")
    op.drop_table("bar_cycle")
    op.drop_table("bar_report")
    with op.batch_alter_table("bar_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_registration_holder_id"))
        batch_op.drop_index(batch_op.f("ix_bar_registration_event_id"))

    op.drop_table("bar_registration")
    with op.batch_alter_table("bar_purchase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_purchase_seller_id"))
        batch_op.drop_index(batch_op.f("ix_bar_purchase_holder_id"))
        batch_op.drop_index(batch_op.f("ix_bar_purchase_created_at"))

    op.drop_table("bar_purchase")
    with op.batch_alter_table("bar_online_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_online_payment_holder_id"))

    op.drop_table("bar_online_payment")
    op.drop_table("bar_category_product")
    with op.batch_alter_table("bar_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_card_holder_id"))

    op.drop_table("bar_card")
    with op.batch_alter_table("bar_stock_mutation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_stock_mutation_stock_id"))

    op.drop_table("bar_stock_mutation")
    with op.batch_alter_table("bar_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bar_product_stock_id"))

    op.drop_table("bar_product")
    op.drop_table("bar_personnel")
    op.drop_table("bar_holder")
    op.drop_table("bar_stock")
    op.drop_table("bar_event")
    op.drop_table("bar_category")
