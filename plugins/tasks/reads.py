"""The task list and a task's detail as the API answers them: the two reads
clients make most, with no ORM object and no response model in the way.

Each is two queries of SQLAlchemy Core statements built once here (SQLAlchemy
compiles each shape once and keeps it), whatever the page size, the number of
performers or comments:

* the list: the page of tasks with the total (``ListQuery.rows``), then the
  people of the page's tasks: creators and performers in one ``UNION ALL``;
* the detail: the task, then its creator, performers, comments with their
  authors and attachments with their uploaders in one ``UNION ALL``.

Each part of a union is numbered in its own order (``row_number()``), so
one ``ORDER BY`` keeps every part in the order its relationship on
:class:`~.models.Task` has.

Rows go straight into plain dicts shaped as :class:`~.schemas.TaskOut` and
:class:`~.schemas.TaskDetail` (which document them; the views skip their
validation with ``validate_response=False``). Who may read what stays in
:mod:`.services`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Integer, Select, String, Text, bindparam, cast, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from pyramidion.api import ListQuery
from pyramidion.auth import Identity, User, display_name
from pyramidion.db import UTCDateTime

from . import services
from .models import Attachment, Comment, Task, TaskPerformer

_task = Task.__table__
_users = User.__table__
_creator = _users.alias("creator")
_performer = TaskPerformer.__table__
_comment = Comment.__table__
_attachment = Attachment.__table__


def _person(user_id: int, username: str, first_name: str, last_name: str) -> dict[str, Any]:
    """A user as :class:`pyramidion.auth.UserRef` shows one."""
    return {
        "id": user_id,
        "username": username,
        "display_name": display_name(first_name, last_name, username),
    }


# -- the tasks -------------------------------------------------------------------------

TASKS = select(
    _task.c.id,
    _task.c.name,
    _task.c.specification,
    _task.c.due_date,
    _task.c.status,
    _task.c.delegated,
    _task.c.creator_id,
    _task.c.created_at,
    _task.c.updated_at,
)
_TASK_ID = bindparam("task_id", type_=Integer)
_TASK = TASKS.where(_task.c.id == _TASK_ID)


def _task_out(row: Any, creator: dict[str, Any], performers: list[dict[str, Any]]) -> dict[str, Any]:
    """A task row (of :data:`TASKS`) as :class:`~.schemas.TaskOut`, in its field order."""
    return {
        "id": row["id"],
        "name": row["name"],
        "specification": row["specification"],
        "due_date": row["due_date"],
        "status": row["status"],
        "delegated": row["delegated"],
        "creator": creator,
        "performers": performers,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# -- their people and discussion ----------------------------------------------------------

CREATOR, PERFORMER, COMMENT, ATTACHMENT = 0, 1, 2, 3
_ITEM_COLUMNS = {"item_id": Integer, "text": Text, "filename": String, "content_type": String, "size": Integer}


def _part(kind: int, task_id: Any, user_id: Any, order: Any, **columns: Any) -> Select[Any]:
    """One part of a union: its kind, its task, its place in its own order, the
    person, and the columns of a comment or an attachment (NULL where the part has none)."""
    items = [columns.get(name, cast(null(), type_)).label(name) for name, type_ in _ITEM_COLUMNS.items()]
    return select(
        literal_column(str(kind), Integer).label("kind"),
        task_id.label("task_id"),
        func.row_number().over(order_by=order).label("position"),
        _users.c.id.label("user_id"),
        _users.c.username,
        _users.c.first_name,
        _users.c.last_name,
        *items,
        columns.get("created_at", cast(null(), UTCDateTime)).label("created_at"),
    ).where(user_id == _users.c.id)


_CREATORS = _part(CREATOR, _task.c.id, _task.c.creator_id, _task.c.id)
# By username, as Task.performers.
_PERFORMERS = _part(PERFORMER, _performer.c.task_id, _performer.c.user_id, _users.c.username)
_COMMENTS = _part(
    COMMENT,
    _comment.c.task_id,
    _comment.c.author_id,
    (_comment.c.created_at.desc(), _comment.c.id.desc()),  # newest first, as Task.comments
    item_id=_comment.c.id,
    text=_comment.c.text,
    created_at=_comment.c.created_at,
)
_ATTACHMENTS = _part(
    ATTACHMENT,
    _attachment.c.task_id,
    _attachment.c.uploader_id,
    _attachment.c.id,
    item_id=_attachment.c.id,
    filename=_attachment.c.filename,
    content_type=_attachment.c.content_type,
    size=_attachment.c.size,
    created_at=_attachment.c.created_at,
)
_IN_ORDER = (literal_column("kind", Integer), literal_column("position", Integer))

_PAGE_IDS = bindparam("task_ids", expanding=True, type_=Integer)
_PEOPLE_OF_TASKS = union_all(
    _CREATORS.where(_task.c.id.in_(_PAGE_IDS)), _PERFORMERS.where(_performer.c.task_id.in_(_PAGE_IDS))
).order_by(*_IN_ORDER)
_DISCUSSION = union_all(
    _CREATORS.where(_task.c.id == _TASK_ID),
    _PERFORMERS.where(_performer.c.task_id == _TASK_ID),
    _COMMENTS.where(_comment.c.task_id == _TASK_ID),
    _ATTACHMENTS.where(_attachment.c.task_id == _TASK_ID),
).order_by(*_IN_ORDER)


def _person_of(part: Any) -> dict[str, Any]:
    return _person(part.user_id, part.username, part.first_name, part.last_name)


# -- the list ---------------------------------------------------------------------------

_SCOPES = {"mine": TASKS.where(services.MINE), "all": TASKS}


def task_page(db: Session, caller: Identity, query: ListQuery) -> dict[str, Any]:
    """The page of tasks ``query`` asks for in its scope (see :func:`.services.may_list`), as ``Page[TaskOut]``."""
    scope = query.arguments["scope"]
    services.may_list(db, caller, scope)

    def with_people(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        creators: dict[int, dict[str, Any]] = {}
        performers: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if rows:
            for part in db.execute(_PEOPLE_OF_TASKS, {"task_ids": [row["id"] for row in rows]}):
                if part.kind == CREATOR:
                    creators[part.task_id] = _person_of(part)
                else:
                    performers[part.task_id].append(_person_of(part))
        return [_task_out(row, creators[row["id"]], performers[row["id"]]) for row in rows]

    return query.rows(_SCOPES[scope], with_people, {"caller_id": caller.user_id})


# -- the detail -------------------------------------------------------------------------


def task_detail(db: Session, caller: Identity, task_id: int) -> dict[str, Any]:
    """The task as ``TaskDetail``, if it exists (else 404) and the caller may read it (else 403)."""
    row = services.found(task_id, lambda wanted: db.execute(_TASK, {"task_id": wanted}).mappings().first())
    creator: dict[str, Any] = {}
    performers, comments, attachments = [], [], []
    for part in db.execute(_DISCUSSION, {"task_id": task_id}):
        person = _person_of(part)
        if part.kind == CREATOR:
            creator = person
        elif part.kind == PERFORMER:
            performers.append(person)
        elif part.kind == COMMENT:
            comments.append({"id": part.item_id, "text": part.text, "author": person, "created_at": part.created_at})
        else:
            attachments.append(
                {
                    "id": part.item_id,
                    "filename": part.filename,
                    "content_type": part.content_type,
                    "size": part.size,
                    "uploader": person,
                    "created_at": part.created_at,
                }
            )
    services.require_readable(db, caller, row["creator_id"], [person["id"] for person in performers])
    return {**_task_out(row, creator, performers), "comments": comments, "attachments": attachments}
