"""robots, sharing, tokens, connections, frames, commands

Revision ID: robots_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "robots_0001"
down_revision = None
branch_labels = ("robots",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robots_robot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("secret_changed_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["auth_user.id"], name=op.f("fk_robots_robot_owner_id_auth_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robots_robot")),
        sa.UniqueConstraint("serial", name=op.f("uq_robots_robot_serial")),
    )
    with op.batch_alter_table("robots_robot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_robots_robot_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "robots_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column(
            "command",
            sa.Enum(
                "auto",
                "idle",
                "error",
                "manual",
                name="robot_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "delivered",
                "acknowledged",
                "failed",
                "expired",
                name="command_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["robot_id"], ["robots_robot.id"], name=op.f("fk_robots_command_robot_id_robots_robot"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["auth_user.id"], name=op.f("fk_robots_command_sent_by_id_auth_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robots_command")),
    )
    with op.batch_alter_table("robots_command", schema=None) as batch_op:
        batch_op.create_index(
            "ix_robots_command_robot_id_status_expires_at", ["robot_id", "status", "expires_at"], unique=False
        )

    op.create_table(
        "robots_connection",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["robot_id"],
            ["robots_robot.id"],
            name=op.f("fk_robots_connection_robot_id_robots_robot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_robots_connection")),
    )
    with op.batch_alter_table("robots_connection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_robots_connection_robot_id"), ["robot_id"], unique=False)

    op.create_table(
        "robots_frame",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "auto",
                "idle",
                "error",
                "manual",
                name="robot_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("timestamp", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("speed", sa.Float(), nullable=True),
        sa.Column("position_x", sa.Float(), nullable=True),
        sa.Column("position_y", sa.Float(), nullable=True),
        sa.Column("angle_theta", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["robot_id"], ["robots_robot.id"], name=op.f("fk_robots_frame_robot_id_robots_robot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robots_frame")),
    )
    with op.batch_alter_table("robots_frame", schema=None) as batch_op:
        batch_op.create_index(
            "ix_robots_frame_robot_id_type_timestamp", ["robot_id", "type", "timestamp"], unique=False
        )
        batch_op.create_index("uq_robots_frame_robot_id_frame_id", ["robot_id", "frame_id"], unique=True)

    op.create_table(
        "robots_join_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["robot_id"],
            ["robots_robot.id"],
            name=op.f("fk_robots_join_token_robot_id_robots_robot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robots_join_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_robots_join_token_token_hash")),
    )
    with op.batch_alter_table("robots_join_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_robots_join_token_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_robots_join_token_robot_id"), ["robot_id"], unique=False)

    op.create_table(
        "robots_share",
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", pyramidion.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["robot_id"], ["robots_robot.id"], name=op.f("fk_robots_share_robot_id_robots_robot"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_robots_share_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("robot_id", "user_id", name=op.f("pk_robots_share")),
    )
    with op.batch_alter_table("robots_share", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_robots_share_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("robots_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_robots_share_user_id"))

    op.drop_table("robots_share")
    with op.batch_alter_table("robots_join_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_robots_join_token_robot_id"))
        batch_op.drop_index(batch_op.f("ix_robots_join_token_expires_at"))

    op.drop_table("robots_join_token")
    with op.batch_alter_table("robots_frame", schema=None) as batch_op:
        batch_op.drop_index("uq_robots_frame_robot_id_frame_id")
        batch_op.drop_index("ix_robots_frame_robot_id_type_timestamp")

    op.drop_table("robots_frame")
    with op.batch_alter_table("robots_connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_robots_connection_robot_id"))

    op.drop_table("robots_connection")
    with op.batch_alter_table("robots_command", schema=None) as batch_op:
        batch_op.drop_index("ix_robots_command_robot_id_status_expires_at")

    op.drop_table("robots_command")
    with op.batch_alter_table("robots_robot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_robots_robot_owner_id"))

    op.drop_table("robots_robot")
