"""Robots, who they are shared with, their tokens, connections, frames and commands.

A robot's secret and its join tokens are random and long, so only their
SHA-256 is kept: a fast hash is as safe as a slow one for such values, and the
token is checked on every join.

A robot is connected while it has a row in ``robots_connection`` (one per WAMP
session): the backend adds and removes rows on the router's join and leave
events and corrects them whenever it (re)joins, so the flag survives a crash
of the robot, the router or the backend.

Frames are idempotent by ``(robot_id, frame_id)``: the unique index turns a
repeated frame into a no-op, so a robot may resend a frame whose
acknowledgement it missed.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from pyramidion.auth import User
from pyramidion.db import Base, UTCDateTime, utcnow

# A 64-bit key on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the fast rowid.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class RobotState(str, enum.Enum):
    """What a robot is doing, and the commands that tell it what to do."""

    auto = "auto"
    idle = "idle"
    error = "error"
    manual = "manual"


class FrameType(enum.IntEnum):
    position = 1
    geo = 2
    hardware = 3


class CommandStatus(str, enum.Enum):
    queued = "queued"  # stored, sent whenever the robot is connected, until it expires
    delivered = "delivered"  # the robot confirmed it has it
    acknowledged = "acknowledged"  # the robot confirmed it carried it out
    failed = "failed"  # the robot said it could not carry it out
    expired = "expired"  # not confirmed by the robot before it expired (derived, see Command.status)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Member names in a VARCHAR with a CHECK: portable, and a new value needs no ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20)


ROBOT_STATE = _enum(RobotState, "robot_state")
COMMAND_STATUS = _enum(CommandStatus, "command_status")


class Robot(Base):
    __tablename__ = "robots_robot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()
    shared_with: Mapped[list[User]] = relationship(secondary="robots_share", order_by=User.username)


class Share(Base):
    """A user the robot is shared with (besides its owner)."""

    __tablename__ = "robots_share"

    robot_id: Mapped[int] = mapped_column(ForeignKey("robots_robot.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JoinToken(Base):
    """A short-lived, single-use ticket for the router, from ``POST /api/robots/token``."""

    __tablename__ = "robots_join_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots_robot.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Connection(Base):
    """A WAMP session of a robot, open now as far as the router told the backend."""

    __tablename__ = "robots_connection"

    session_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots_robot.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


Robot.connected = column_property(exists().where(Connection.robot_id == Robot.id))
Robot.connected_since = column_property(
    select(func.min(Connection.joined_at)).where(Connection.robot_id == Robot.id).scalar_subquery()
)


class Frame(Base):
    """A data frame as the robot sent it, stamped with the robot's own clock (``timestamp``).

    Position frames fill the position columns; geo and hardware frames keep
    their readings in ``data``.
    """

    __tablename__ = "robots_frame"
    __table_args__ = (
        Index("uq_robots_frame_robot_id_frame_id", "robot_id", "frame_id", unique=True),
        Index("ix_robots_frame_robot_id_type_timestamp", "robot_id", "type", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots_robot.id", ondelete="CASCADE"))
    frame_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[RobotState] = mapped_column(ROBOT_STATE)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    speed: Mapped[float | None] = mapped_column(Float)
    position_x: Mapped[float | None] = mapped_column(Float)
    position_y: Mapped[float | None] = mapped_column(Float)
    angle_theta: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Command(Base):
    """A command a user sent to a robot, with its delivery status."""

    __tablename__ = "robots_command"
    __table_args__ = (Index("ix_robots_command_robot_id_status_expires_at", "robot_id", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots_robot.id", ondelete="CASCADE"))
    command: Mapped[RobotState] = mapped_column(ROBOT_STATE)
    stored_status: Mapped[CommandStatus] = mapped_column("status", COMMAND_STATUS, default=CommandStatus.queued)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str | None] = mapped_column(Text)

    sent_by: Mapped[User | None] = relationship()

    @property
    def status(self) -> CommandStatus:
        """``expired`` once a queued command outlives its time; otherwise what the robot confirmed."""
        if self.stored_status == CommandStatus.queued and utcnow() >= self.expires_at:
            return CommandStatus.expired
        return self.stored_status
