"""Request and response bodies of ``/api/tasks``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from pyramidion.api import In, Out, Patch
from pyramidion.auth import UserRef
from pyramidion.db import utcnow

from .models import Status


def _not_in_past(day: dt.date) -> dt.date:
    if day < utcnow().date():
        raise ValueError("must not be in the past")
    return day


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Specification = Annotated[str, Field(max_length=20_000)]
DueDate = Annotated[dt.date, AfterValidator(_not_in_past)]
PerformerIds = Annotated[list[int], Field(min_length=1, max_length=50, description="user ids")]


class TaskIn(In):
    name: Name
    specification: Specification = ""
    due_date: DueDate
    performer_ids: PerformerIds


class TaskPatch(Patch):
    """Only the fields given change (none may be null); ``performer_ids`` only by the creator."""

    name: Name
    specification: Specification
    due_date: DueDate
    status: Status
    performer_ids: PerformerIds


class DelegateIn(In):
    user_id: int = Field(description="the user who takes over your part of the task")


class CommentIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class TaskOut(Out):
    id: int
    name: str
    specification: str
    due_date: dt.date
    status: Status
    delegated: bool
    creator: UserRef
    performers: list[UserRef]
    created_at: dt.datetime
    updated_at: dt.datetime


class CommentOut(Out):
    id: int
    text: str
    author: UserRef
    created_at: dt.datetime


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    uploader: UserRef
    created_at: dt.datetime


class TaskDetail(TaskOut):
    comments: list[CommentOut] = Field(description="newest first")
    attachments: list[AttachmentOut]
