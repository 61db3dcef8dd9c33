"""Request and response bodies of ``/api/tasks``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

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
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
MAX_PERFORMERS = 50
PerformerIds = Annotated[list[int], Field(min_length=1, max_length=MAX_PERFORMERS, description="user ids")]
PerformerUsernames = Annotated[
    list[Username], Field(min_length=1, max_length=MAX_PERFORMERS, description="usernames, besides or instead of ids")
]


class TaskIn(In):
    """A new task; its performers by id, by username, or both (at least one performer)."""

    name: Name
    specification: Specification = ""
    due_date: DueDate
    # Declared before the ids, so the ids' check below sees them.
    performer_usernames: Annotated[list[Username], Field(max_length=MAX_PERFORMERS)] = Field(
        default_factory=list, description="usernames, besides or instead of ids"
    )
    performer_ids: Annotated[list[int], Field(max_length=MAX_PERFORMERS)] = Field(
        default_factory=list, validate_default=True, description="user ids"
    )

    @field_validator("performer_ids")
    @classmethod
    def _someone_performs(cls, ids: list[int], info: ValidationInfo) -> list[int]:
        if not ids and not info.data.get("performer_usernames"):
            raise ValueError("name at least one performer, by id or in performer_usernames")
        return ids


class TaskPatch(Patch):
    """Only the fields given change (none may be null); the performers only by the
    creator: ``performer_ids``, ``performer_usernames`` or both replace them."""

    name: Name
    specification: Specification
    due_date: DueDate
    status: Status
    performer_usernames: PerformerUsernames
    performer_ids: PerformerIds


class DelegateIn(In):
    """Who takes over your part of the task: ``user_id`` or ``username``."""

    username: Username | None = None
    user_id: int | None = Field(None, validate_default=True)

    @field_validator("user_id")
    @classmethod
    def _one_successor(cls, user_id: int | None, info: ValidationInfo) -> int | None:
        if (user_id is None) == (info.data.get("username") is None):
            raise ValueError("give either user_id or username")
        return user_id


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
