"""The task list and a task's detail as the API answers them: the two reads
clients make most, with no ORM object and no response model in the way.

Each is two queries of SQLAlchemy Core statements built once here (SQLAlchemy
compiles each shape once and keeps it), whatever the page size, the number of
performers or comments:

* the list: the page of tasks with their creators and the total
  (:meth:`pyramidion.api.ListQuery.rows`), then the performers of the page's tasks;
* the detail: the task with its creator, then its performers, comments with
  their authors and attachments with their uploaders in one ``UNION ALL``,
  each part numbered in its own order.

Rows go straight into plain dicts shaped as :class:`~.schemas.TaskOut` and
:class:`~.schemas.TaskDetail` (which document them; the views skip their
validation with ``validate_response=False``). Who may read what stays in
:mod:`.services`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, Text, bindparam, cast, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from pyramidion.auth import Identity, User
from pyramidion.db import UTCDateTime

from . import services
from .models import Attachment, Comment, Task, TaskPerformer

_task = Task.__table__
_users = User.__table__
_creator = _users.alias("creator")
_performer = TaskPerformer.__table__
_comment = Comment.__table__
_attachment = Attachment.__table__


class _Name(NamedTuple):
    first_name: str
    last_name: str
    username: str


_display_name = User.display_name.fget  # the core's rule, applied to a row's names


def _person(user_id: int, username: str, first_name: str, last_name: str) -> dict[str, Any]:
    """A user as :class:`pyramidion.auth.UserRef` shows one."""
    return {
        "id": user_id,
        "username": username,
        "display_name": _display_name(_Name(first_name, last_name, username)),
    }


# -- the tasks with their creators ------------------------------------------------

TASKS = select(
    _task.c.id,
    _task.c.name,
    _task.c.specification,
    _task.c.due_date,
    _task.c.status,
    _task.c.delegated,
    _task.c.creator_id,
    _creator.c.username.label("creator_username"),
    _creator.c.first_name.label("creator_first_name"),
    _creator.c.last_name.label("creator_last_name"),
    _task.c.created_at,
    _task.c.updated_at,
).join_from(_task, _creator, _creator.c.id == _task.c.creator_id)

_TASK_ID = bindparam("task_id", type_=Integer)
_TASK = TASKS.where(_task.c.id == _TASK_ID)


def _task_out(row: Any, performers: list[dict[str, Any]]) -> dict[str, Any]:
    """A task row (of :data:`TASKS`) as :class:`~.schemas.TaskOut`, in its field order."""
    return {
        "id": row["id"],
        "name": row["name"],
        "specification": row["specification"],
        "due_date": row["due_date"],
        "status": row["status"],
        "delegated": row["delegated"],
        "creator": _person(
            row["creator_id"], row["creator_username"], row["creator_first_name"], row["creator_last_name"]
        ),
        "performers": performers,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# -- the list ---------------------------------------------------------------------------

# The performers of a page's tasks, each task's by username (as Task.performers).
_PERFORMERS_OF_TASKS = (
    select(_performer.c.task_id, _users.c.id, _users.c.username, _users.c.first_name, _users.c.last_name)
    .join_from(_performer, _users, _users.c.id == _performer.c.user_id)
    .where(_performer.c.task_id.in_(bindparam("task_ids", expanding=True)))
    .order_by(_users.c.username)
)


_SCOPES = {"mine": TASKS.where(services.MINE), "all": TASKS}


def task_page(db: Session, caller: Identity, query: Any) -> dict[str, Any]:
    """The page of tasks ``query`` asks for in its scope (see :func:`.services.may_list`), as ``Page[TaskOut]``."""
    scope = query.arguments["scope"]
    services.may_list(db, caller, scope)

    def with_performers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        performers: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if rows:
            for task_id, *person in db.execute(_PERFORMERS_OF_TASKS, {"task_ids": [row["id"] for row in rows]}):
                performers[task_id].append(_person(*person))
        return [_task_out(row, performers[row["id"]]) for row in rows]

    return query.rows(_SCOPES[scope], with_performers, {"caller_id": caller.user.id})


# -- the detail -------------------------------------------------------------------------

PERFORMER, COMMENT, ATTACHMENT = 1, 2, 3


def _part(kind: int, order: Any, user_id: Any, **columns: Any) -> Any:
    """One part of the detail's union: its kind, its place in its own order,
    the person, and the columns of a comment or an attachment (NULL where the part has none)."""
    types = {"item_id": Integer, "text": Text, "filename": String, "content_type": String, "size": Integer}
    values = [columns.get(name, cast(null(), type_)).label(name) for name, type_ in types.items()]
    created_at = columns.get("created_at", cast(null(), UTCDateTime)).label("created_at")
    return select(
        literal_column(str(kind), Integer).label("kind"),
        func.row_number().over(order_by=order).label("position"),
        _users.c.id.label("user_id"),
        _users.c.username,
        _users.c.first_name,
        _users.c.last_name,
        *values,
        created_at,
    ).where(user_id == _users.c.id)


_DISCUSSION = union_all(
    _part(PERFORMER, _users.c.username, _performer.c.user_id).where(_performer.c.task_id == _TASK_ID),
    _part(
        COMMENT,
        (_comment.c.created_at.desc(), _comment.c.id.desc()),  # newest first, as Task.comments
        _comment.c.author_id,
        item_id=_comment.c.id,
        text=_comment.c.text,
        created_at=_comment.c.created_at,
    ).where(_comment.c.task_id == _TASK_ID),
    _part(
        ATTACHMENT,
        _attachment.c.id,
        _attachment.c.uploader_id,
        item_id=_attachment.c.id,
        filename=_attachment.c.filename,
        content_type=_attachment.c.content_type,
        size=_attachment.c.size,
        created_at=_attachment.c.created_at,
    ).where(_attachment.c.task_id == _TASK_ID),
).order_by(literal_column("kind"), literal_column("position"))


def task_detail(db: Session, caller: Identity, task_id: int) -> dict[str, Any]:
    """The task as ``TaskDetail``, if it exists (else 404) and the caller may read it (else 403)."""
    row = services.found(task_id, lambda wanted: db.execute(_TASK, {"task_id": wanted}).mappings().first())
    performers, comments, attachments = [], [], []
    for part in db.execute(_DISCUSSION, {"task_id": task_id}).mappings():
        person = _person(part["user_id"], part["username"], part["first_name"], part["last_name"])
        kind = part["kind"]
        if kind == PERFORMER:
            performers.append(person)
        elif kind == COMMENT:
            comments.append(
                {"id": part["item_id"], "text": part["text"], "author": person, "created_at": part["created_at"]}
            )
        else:
            attachments.append(
                {
                    "id": part["item_id"],
                    "filename": part["filename"],
                    "content_type": part["content_type"],
                    "size": part["size"],
                    "uploader": person,
                    "created_at": part["created_at"],
                }
            )
    services.require_readable(db, caller, row["creator_id"], [person["id"] for person in performers])
    return {**_task_out(row, performers), "comments": comments, "attachments": attachments}
