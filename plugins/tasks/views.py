"""``/api/tasks``: tasks, delegation, comments and attachments.

Who may do what with a task:

* read it and comment: its creator, its performers, holders of
  ``tasks.view_all`` or ``tasks.admin``;
* change it: its creator and performers; only the creator changes the performers;
* delegate: a performer hands their part to another user (the task is then
  marked delegated);
* delete it: its creator and holders of ``tasks.admin``.

Superusers may do everything but delegate, which is a performer's own act.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import quote

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.response import FileResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from pyramidion.api import Argument, Conflict, Filter, Invalid, Listing, Page, api_view, ensure_unique
from pyramidion.auth.models import User
from pyramidion.db import utcnow

from .attachments import check_declared_size, clean_filename, content_type, uploaded_file
from .models import Attachment, Comment, Status, Task, TaskPerformer
from .notify import notify
from .schemas import AttachmentOut, CommentIn, CommentOut, DelegateIn, TaskDetail, TaskIn, TaskOut, TaskUpdate

VIEW_ALL = "tasks.view_all"
ADMIN = "tasks.admin"

# The people of a task, as every task answer shows them.
WITH_PEOPLE = (joinedload(Task.creator), selectinload(Task.performers))


# -- rules --------------------------------------------------------------------


class Caller:
    """The calling user and what they may do with a task: the rules above, in code."""

    def __init__(self, request: Any) -> None:
        self.identity = request.identity
        self.user: User = self.identity.user
        self.db = request.db

    def holds(self, permission: str) -> bool:
        return self.user.is_superuser or permission in self.identity.permissions(self.db)

    def creates(self, task: Task) -> bool:
        return task.creator_id == self.user.id

    def performs(self, task: Task) -> bool:
        return any(user.id == self.user.id for user in task.performers)

    def may_read(self, task: Task) -> bool:
        return self.creates(task) or self.performs(task) or self.holds(VIEW_ALL) or self.holds(ADMIN)

    def may_change(self, task: Task) -> bool:
        return self.creates(task) or self.performs(task) or self.user.is_superuser

    def may_change_performers(self, task: Task) -> bool:
        return self.creates(task) or self.user.is_superuser

    def may_delete(self, task: Task) -> bool:
        return self.creates(task) or self.holds(ADMIN)


def _require(allowed: bool, why: str) -> None:
    if not allowed:
        raise HTTPForbidden(why)


def _task(request: Any, caller: Caller, *options: Any) -> Task:
    """The task of the route, with its people (and ``options``), if the caller may read it."""
    task = request.db.scalar(
        select(Task).where(Task.id == int(request.matchdict["id"])).options(*WITH_PEOPLE, *options)
    )
    if task is None:
        raise HTTPNotFound("no such task")
    _require(caller.may_read(task), "this task is neither yours nor one you perform")
    return task


def _changeable_task(request: Any, caller: Caller) -> Task:
    task = _task(request, caller)
    _require(caller.may_change(task), "only the creator or a performer may change this task")
    return task


def _users(request: Any, ids: list[int], field: str) -> list[User]:
    """The active users with ``ids``, or a 422 naming ``field`` and the ids that are not."""
    wanted = set(ids)
    users = list(
        request.db.scalars(select(User).where(User.id.in_(wanted), User.is_active.is_(True)).order_by(User.username))
    )
    missing = sorted(wanted - {user.id for user in users})
    if missing:
        raise Invalid.field(field, f"no such active user(s): {', '.join(map(str, missing))}")
    return users


# -- tasks --------------------------------------------------------------------


def _mine(user_id: int) -> Any:
    performed = select(TaskPerformer.task_id).where(TaskPerformer.user_id == user_id)
    return or_(Task.creator_id == user_id, Task.id.in_(performed))


task_listing = Listing(
    key=Task.id,
    ordering={
        "due_date": Task.due_date,
        "name": Task.name,
        "status": Task.status,
        "created_at": Task.created_at,
        "updated_at": Task.updated_at,
        "id": Task.id,
    },
    default_ordering="-due_date",
    search=[Task.name, lambda term: Task.performers.any(User.username.icontains(term, autoescape=True))],
    arguments={
        "scope": Argument(
            Literal["mine", "all"],
            "mine",
            f"mine: tasks you created or perform; all: every task (needs {VIEW_ALL})",
        ),
    },
    filters={
        "status": Filter(Task.status, Status),
        "due_after": Filter(Task.due_date, dt.date, "gte", "due on or after this date"),
        "due_before": Filter(Task.due_date, dt.date, "lte", "due on or before this date"),
        "creator": Filter(Task.creator_id, int, description="creator's user id"),
        "performer": Filter(
            lambda user_id: Task.performers.any(User.id == user_id), int, description="a performer's user id"
        ),
        "delegated": Filter(Task.delegated, bool),
    },
    default_limit=10,
)


@api_view("tasks.tasks", query=task_listing, response=Page[TaskOut])
def list_tasks(request: Any, query: Any) -> dict[str, Any]:
    """Tasks, latest due date first: yours by default, every task with ``?scope=all``."""
    caller = Caller(request)
    stmt = select(Task).options(*WITH_PEOPLE)
    if query.arguments["scope"] == "mine":
        stmt = stmt.where(_mine(caller.user.id))
    else:
        _require(caller.holds(VIEW_ALL), f"listing every task requires the permission {VIEW_ALL!r}")
    return query.page(stmt)


@api_view(
    "tasks.tasks", request_method="POST", body=TaskIn, response=TaskOut, status=201, responses={409: "Name taken"}
)
def create_task(request: Any, body: TaskIn) -> Task:
    """Create a task; you are its creator. Its people are mailed."""
    me = request.identity.user
    ensure_unique(request.db, Task.name, body.name)
    task = Task(
        name=body.name,
        specification=body.specification,
        due_date=body.due_date,
        creator=me,
        performers=_users(request, body.performer_ids, "performer_ids"),
    )
    request.db.add(task)
    request.db.flush()
    notify(request, task, me, f'Task "{task.name}" created by {me.username}')
    return task


@api_view("tasks.task", response=TaskDetail)
def get_task(request: Any) -> Task:
    """One task with its attachments and its comments, newest first."""
    return _task(
        request,
        Caller(request),
        selectinload(Task.comments).joinedload(Comment.author),
        selectinload(Task.attachments).joinedload(Attachment.uploader),
    )


@api_view("tasks.task", request_method="PATCH", body=TaskUpdate, response=TaskOut, responses={409: "Name taken"})
def update_task(request: Any, body: TaskUpdate) -> Task:
    """Change a task (its creator or a performer; the performers only by the creator)."""
    caller = Caller(request)
    task = _changeable_task(request, caller)
    changed = []
    if body.performer_ids is not None and set(body.performer_ids) != {user.id for user in task.performers}:
        _require(caller.may_change_performers(task), "only the creator changes the performers")
        task.performers = _users(request, body.performer_ids, "performer_ids")
        changed.append("performers")
    if body.name is not None and body.name != task.name:
        ensure_unique(request.db, Task.name, body.name, exclude=task.id)
    for field in ("name", "specification", "due_date", "status"):
        value = getattr(body, field)
        if value is not None and value != getattr(task, field):
            setattr(task, field, value)
            changed.append(field)
    if changed:
        task.updated_at = utcnow()
        request.db.flush()
        notify(
            request,
            task,
            caller.user,
            f'Task "{task.name}" changed by {caller.user.username}',
            f"Changed: {', '.join(changed)}",
        )
    return task


@api_view("tasks.task", request_method="DELETE", status=204)
def delete_task(request: Any) -> None:
    """Delete a task with its comments and attachments (its creator, or ``tasks.admin``)."""
    caller = Caller(request)
    task = _task(request, caller)
    _require(caller.may_delete(task), "only the creator or an administrator deletes a task")
    stored = list(request.db.scalars(select(Attachment.stored_name).where(Attachment.task_id == task.id)))
    request.db.delete(task)
    request.registry.tasks_attachments.remove_after_commit(request, stored)


@api_view(
    "tasks.delegate", request_method="POST", body=DelegateIn, response=TaskOut, responses={409: "Already a performer"}
)
def delegate_task(request: Any, body: DelegateIn) -> Task:
    """Hand your part of a task you perform to another user; the task is marked delegated."""
    caller = Caller(request)
    task = _task(request, caller)
    _require(caller.performs(task), "only a performer delegates a task")
    me = caller.user
    if any(user.id == body.user_id for user in task.performers):
        raise Conflict(
            "that user performs this task already",
            [{"field": "user_id", "location": "body", "message": "already a performer"}],
        )
    (successor,) = _users(request, [body.user_id], "user_id")
    others = [user for user in task.performers if user.id != me.id]
    task.performers = sorted([*others, successor], key=lambda user: user.username)
    task.delegated = True
    task.updated_at = utcnow()
    request.db.flush()
    notify(request, task, me, f'Task "{task.name}" delegated by {me.username} to {successor.username}')
    return task


# -- comments -----------------------------------------------------------------


@api_view("tasks.comments", request_method="POST", body=CommentIn, response=CommentOut, status=201)
def add_comment(request: Any, body: CommentIn) -> Comment:
    """Comment on a task you may read. Its people are mailed."""
    caller = Caller(request)
    comment = Comment(task=_task(request, caller), author=caller.user, text=body.text)
    request.db.add(comment)
    request.db.flush()
    notify(
        request, comment.task, caller.user, f'New comment on "{comment.task.name}" by {caller.user.username}', body.text
    )
    return comment


# -- attachments --------------------------------------------------------------


@api_view(
    "tasks.attachments",
    request_method="POST",
    response=AttachmentOut,
    status=201,
    upload="file",
    responses={413: "File too large", 415: "File type not allowed"},
)
def upload_attachment(request: Any) -> Attachment:
    """Attach a file (multipart/form-data field ``file``) to a task you may change.

    Types and size are limited by ``tasks.attachments.allowed_types`` and
    ``tasks.attachments.max_size``.
    """
    config = request.registry.tasks_settings
    check_declared_size(config, request.content_length)
    caller = Caller(request)
    task = _changeable_task(request, caller)
    upload = uploaded_file(request)
    filename = clean_filename(upload.filename)
    kind = content_type(config, upload.type, filename)
    stored_name, size = request.registry.tasks_attachments.save(request, upload.file, config.attachments_max_size)
    attachment = Attachment(
        task=task, uploader=caller.user, filename=filename, content_type=kind, size=size, stored_name=stored_name
    )
    request.db.add(attachment)
    request.db.flush()
    return attachment


def _attachment(request: Any, task: Task) -> Attachment:
    attachment = request.db.get(Attachment, int(request.matchdict["attachment_id"]))
    if attachment is None or attachment.task_id != task.id:
        raise HTTPNotFound("no such attachment")
    return attachment


@api_view("tasks.attachment", content_type="application/octet-stream")
def download_attachment(request: Any) -> FileResponse:
    """Download an attachment of a task you may read."""
    attachment = _attachment(request, _task(request, Caller(request)))
    path = request.registry.tasks_attachments.path(attachment.stored_name)
    if not path.is_file():
        raise HTTPNotFound("the attachment's file is missing")
    response = FileResponse(str(path), request=request, content_type=attachment.content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@api_view("tasks.attachment", request_method="DELETE", status=204)
def delete_attachment(request: Any) -> None:
    """Remove an attachment from a task you may change."""
    attachment = _attachment(request, _changeable_task(request, Caller(request)))
    request.db.delete(attachment)
    request.registry.tasks_attachments.remove_after_commit(request, [attachment.stored_name])
