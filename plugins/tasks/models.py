"""Tasks, their performers, comments and attachments."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pyramidion.auth import User
from pyramidion.db import Base, UTCDateTime, utcnow


class Status(str, enum.Enum):
    new = "new"
    in_work = "in_work"
    completed = "completed"


class TaskPerformer(Base):
    __tablename__ = "tasks_task_performer"
    # "My tasks" looks performers up by user.
    __table_args__ = (Index("ix_tasks_task_performer_user_id", "user_id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)


class Task(Base):
    __tablename__ = "tasks_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    specification: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20, validate_strings=True), default=Status.new
    )
    delegated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the views on a change, performers included (which leave this row alone).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    creator: Mapped[User] = relationship(foreign_keys=[creator_id])
    performers: Mapped[list[User]] = relationship(secondary="tasks_task_performer", order_by=User.username)
    comments: Mapped[list[Comment]] = relationship(
        back_populates="task",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="[Comment.created_at.desc(), Comment.id.desc()]",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True, order_by="Attachment.id"
    )

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name!r}>"


class Comment(Base):
    __tablename__ = "tasks_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class Attachment(Base):
    """A file on a task. The bytes live on disk under ``tasks.attachments.path``
    as ``stored_name`` (random, so a client-chosen name never becomes a path)."""

    __tablename__ = "tasks_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="attachments")
    uploader: Mapped[User] = relationship()
