"""jobs tables

Revision ID: jobs_0001
Revises:
Create Date: 2026-11-20 22:15:53.793575
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs_runner_configuration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("runner", sa.String(length=20), nullable=False),
        sa.Column("num_workers", sa.Integer(), nullable=False),
        sa.Column("updated_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_runner_configuration")),
    )
    op.create_table(
        "jobs_inventory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["auth_user.id"],
            name=op.f("fk_jobs_inventory_created_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_inventory")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_inventory_name")),
    )
    op.create_table(
        "jobs_defaults",
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("connection_options_encrypted", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["jobs_inventory.id"],
            name=op.f("fk_jobs_defaults_inventory_id_jobs_inventory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inventory_id", name=op.f("pk_jobs_defaults")),
    )
    op.create_table(
        "jobs_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("connection_options_encrypted", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["jobs_inventory.id"],
            name=op.f("fk_jobs_group_inventory_id_jobs_inventory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_group")),
        sa.UniqueConstraint("inventory_id", "name", name=op.f("uq_jobs_group_inventory_id_name")),
    )
    with op.batch_alter_table("jobs_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_group_inventory_id"), ["inventory_id"], unique=False)

    op.create_table(
        "jobs_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("connection_options_encrypted", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["jobs_inventory.id"],
            name=op.f("fk_jobs_host_inventory_id_jobs_inventory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_host")),
        sa.UniqueConstraint("inventory_id", "name", name=op.f("uq_jobs_host_inventory_id_name")),
    )
    with op.batch_alter_table("jobs_host", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_host_inventory_id"), ["inventory_id"], unique=False)

    op.create_table(
        "jobs_preset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("template", sa.String(length=150), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["auth_user.id"],
            name=op.f("fk_jobs_preset_created_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["jobs_inventory.id"],
            name=op.f("fk_jobs_preset_inventory_id_jobs_inventory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_preset")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_preset_name")),
    )
    with op.batch_alter_table("jobs_preset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_preset_inventory_id"), ["inventory_id"], unique=False)

    op.create_table(
        "jobs_group_parent",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["jobs_group.id"], name=op.f("fk_jobs_group_parent_group_id_jobs_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["jobs_group.id"], name=op.f("fk_jobs_group_parent_parent_id_jobs_group"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "parent_id", name=op.f("pk_jobs_group_parent")),
    )
    op.create_table(
        "jobs_host_group",
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["jobs_group.id"], name=op.f("fk_jobs_host_group_group_id_jobs_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["host_id"], ["jobs_host.id"], name=op.f("fk_jobs_host_group_host_id_jobs_host"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("host_id", "group_id", name=op.f("pk_jobs_host_group")),
    )
    with op.batch_alter_table("jobs_host_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_host_group_group_id"), ["group_id"], unique=False)

    op.create_table(
        "jobs_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("preset_id", sa.Integer(), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["auth_user.id"],
            name=op.f("fk_jobs_schedule_created_by_id_auth_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preset_id"], ["jobs_preset.id"], name=op.f("fk_jobs_schedule_preset_id_jobs_preset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_schedule")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_schedule_name")),
    )
    with op.batch_alter_table("jobs_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_schedule_next_run_at"), ["next_run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_schedule_preset_id"), ["preset_id"], unique=False)

    op.create_table(
        "jobs_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=150), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "scheduled",
                "running",
                "finished",
                "failed",
                "aborted",
                name="runstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queue_task_id", sa.String(length=64), nullable=True),
        sa.Column("relaunch_of_id", sa.Integer(), nullable=True),
        sa.Column("preset_id", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("hosts_total", sa.Integer(), nullable=False),
        sa.Column("hosts_failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["auth_user.id"], name=op.f("fk_jobs_run_created_by_id_auth_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["jobs_inventory.id"],
            name=op.f("fk_jobs_run_inventory_id_jobs_inventory"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preset_id"], ["jobs_preset.id"], name=op.f("fk_jobs_run_preset_id_jobs_preset"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["relaunch_of_id"], ["jobs_run.id"], name=op.f("fk_jobs_run_relaunch_of_id_jobs_run"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["jobs_schedule.id"],
            name=op.f("fk_jobs_run_schedule_id_jobs_schedule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_run")),
    )
    with op.batch_alter_table("jobs_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_run_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_run_inventory_id"), ["inventory_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_run_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_run_template"), ["template"], unique=False)

    op.create_table(
        "jobs_run_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum("finished", "failed", "aborted", name="hoststatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("started_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["jobs_run.id"], name=op.f("fk_jobs_run_host_run_id_jobs_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs_run_host")),
        sa.UniqueConstraint("run_id", "host", name=op.f("uq_jobs_run_host_run_id_host")),
    )
    with op.batch_alter_table("jobs_run_host", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_run_host_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs_run_host", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_run_host_run_id"))

    op.drop_table("jobs_run_host")
    with op.batch_alter_table("jobs_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_run_template"))
        batch_op.drop_index(batch_op.f("ix_jobs_run_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_run_inventory_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_run_created_by_id"))

    op.drop_table("jobs_run")
    with op.batch_alter_table("jobs_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_schedule_preset_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_schedule_next_run_at"))

    op.drop_table("jobs_schedule")
    with op.batch_alter_table("jobs_host_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_host_group_group_id"))

    op.drop_table("jobs_host_group")
    op.drop_table("jobs_group_parent")
    with op.batch_alter_table("jobs_preset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_preset_inventory_id"))

    op.drop_table("jobs_preset")
    with op.batch_alter_table("jobs_host", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_host_inventory_id"))

    op.drop_table("jobs_host")
    with op.batch_alter_table("jobs_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_group_inventory_id"))

    op.drop_table("jobs_group")
    op.drop_table("jobs_defaults")
    op.drop_table("jobs_inventory")
    op.drop_table("jobs_runner_configuration")
