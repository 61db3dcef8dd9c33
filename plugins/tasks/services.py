"""The task tracker's rules: one function per use case.

Who may do what with a task:

* read it and comment: its creator, its performers, holders of
  ``tasks.view_all`` or ``tasks.admin``;
* change it and its attachments: its creator and performers; only the
  creator changes the performers;
* delegate: a performer hands their part to another user (the task is then
  marked delegated);
* delete it: its creator and holders of ``tasks.admin``.

Superusers may do everything but delegate, which is a performer's own act.

Every function takes the database session and the caller (the
:class:`~pyramidion.auth.Identity` of the user acting: who, with which
permissions), checks
what the caller may do and raises the API's errors (403, 404, 409, 422), so
the JSON views and the console pages, which both call them, never disagree.
Side effects leave through what the caller of a function hands it: ``mail``
(sends a message once the transaction commits) and ``store`` (the attachment
files of this request, :class:`~pyramidion_tasks.attachments.AttachmentStore`).
"""

from __future__ import annotations

import datetime as dt
import functools
import mimetypes
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PureWindowsPath
from typing import Any, BinaryIO, Literal, Protocol, TypeVar

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import ColumnElement, Select, bindparam, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from pyramidion.api import APIError, Argument, Conflict, Filter, Invalid, Listing, ensure_unique
from pyramidion.auth import Identity, User, users_by_username
from pyramidion.db import utcnow
from pyramidion.mail import send_mail
from pyramidion.request import Request

from .attachments import GENERIC_TYPE, AttachmentStore
from .models import Attachment, Comment, Status, Task, TaskPerformer
from .schemas import DelegateIn, TaskIn

VIEW_ALL = "tasks.view_all"
MAX_ID = 2**31 - 1  # the largest value of an id column (32-bit on PostgreSQL)
ADMIN = "tasks.admin"

T = TypeVar("T")

# The people of a task, as every task answer shows them.
WITH_PEOPLE = (joinedload(Task.creator), selectinload(Task.performers))
# And what its own page shows besides.
WITH_DISCUSSION = (
    selectinload(Task.comments).joinedload(Comment.author),
    selectinload(Task.attachments).joinedload(Attachment.uploader),
)


class SendMail(Protocol):
    """Mails ``body`` to ``to`` once the transaction commits (:func:`pyramidion.mail.send_mail` bound to a request)."""

    def __call__(self, to: Sequence[str], subject: str, body: str) -> None: ...


def creates(caller: Identity, task: Task) -> bool:
    return task.creator_id == caller.user_id


def performs(caller: Identity, task: Task) -> bool:
    return any(user.id == caller.user_id for user in task.performers)


def may_read(db: Session, caller: Identity, task: Task) -> bool:
    return may_read_ids(db, caller, task.creator_id, [user.id for user in task.performers])


def may_read_ids(db: Session, caller: Identity, creator_id: int, performer_ids: Iterable[int]) -> bool:
    """:func:`may_read` for a task known by its creator's and performers' ids (a row, not an object)."""
    me = caller.user_id
    return creator_id == me or me in performer_ids or caller.holds(db, VIEW_ALL) or caller.holds(db, ADMIN)


def require_readable(db: Session, caller: Identity, creator_id: int, performer_ids: Iterable[int]) -> None:
    """A 403 unless the caller may read the task of these ids."""
    _require(may_read_ids(db, caller, creator_id, performer_ids), "this task is neither yours nor one you perform")


def may_change(caller: Identity, task: Task) -> bool:
    return creates(caller, task) or performs(caller, task) or caller.user.is_superuser


def may_change_performers(caller: Identity, task: Task) -> bool:
    return creates(caller, task) or caller.user.is_superuser


def may_delete(db: Session, caller: Identity, task: Task) -> bool:
    return creates(caller, task) or caller.holds(db, ADMIN)


def may_delegate(caller: Identity, task: Task) -> bool:
    return performs(caller, task)


def _require(allowed: bool, why: str) -> None:
    if not allowed:
        raise HTTPForbidden(why)


# -- finding tasks ------------------------------------------------------------


def _person_matches(term: str) -> ColumnElement[bool]:
    return or_(
        *(column.icontains(term, autoescape=True) for column in (User.username, User.first_name, User.last_name))
    )


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
    # The name and the performers, by username (as the original searched) or by name.
    search=[Task.name, lambda term: Task.performers.any(_person_matches(term))],
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


# The tasks a list's scope "mine" shows: those the caller (bound as
# ``caller_id``) created or performs. A clause built once, for statements built once.
MINE = or_(
    Task.creator_id == bindparam("caller_id"),
    Task.id.in_(select(TaskPerformer.task_id).where(TaskPerformer.user_id == bindparam("caller_id"))),
)


def may_list(db: Session, caller: Identity, scope: str) -> None:
    """A list's scope: ``mine`` (see :data:`MINE`) for anyone, ``all`` only with ``tasks.view_all`` (else 403)."""
    if scope != "mine":
        _require(caller.holds(db, VIEW_ALL), f"listing every task requires the permission {VIEW_ALL!r}")


def tasks_visible(db: Session, caller: Identity, scope: str) -> Select[tuple[Task]]:
    """The tasks of a list in ``scope`` (see :func:`may_list`), with their people."""
    may_list(db, caller, scope)
    stmt = select(Task).options(*WITH_PEOPLE)
    return stmt.where(MINE).params(caller_id=caller.user_id) if scope == "mine" else stmt


def readable_task(db: Session, caller: Identity, task_id: int, *, discussion: bool = False) -> Task:
    """The task with its people (and its comments and attachments with
    ``discussion``), if it exists (else 404) and the caller may read it (else 403)."""
    options = (*WITH_PEOPLE, *WITH_DISCUSSION) if discussion else WITH_PEOPLE
    task = found(task_id, lambda wanted: db.scalar(select(Task).where(Task.id == wanted).options(*options)))
    require_readable(db, caller, task.creator_id, [user.id for user in task.performers])
    return task


def found(task_id: int, fetch: Callable[[int], T | None]) -> T:
    """What ``fetch`` reads of the task ``task_id``, or a 404 when there is no such task."""
    # An id past the column's range names no task (rather than a database error).
    task = fetch(task_id) if task_id <= MAX_ID else None
    if task is None:
        raise HTTPNotFound("no such task")
    return task


def changeable_task(db: Session, caller: Identity, task_id: int) -> Task:
    """The task, if the caller may change it (else 403)."""
    task = readable_task(db, caller, task_id)
    _require(may_change(caller, task), "only the creator or a performer may change this task")
    return task


def active_users(
    db: Session,
    ids: Iterable[int] = (),
    usernames: Iterable[str] = (),
    *,
    ids_field: str = "performer_ids",
    usernames_field: str = "performer_usernames",
) -> list[User]:
    """The active users with ``ids`` or ``usernames`` (compared as logins
    are: case and Unicode form aside), sorted by username; or a 422 naming
    each id and each username that is no active user's."""
    wanted_ids, usernames = set(ids), list(usernames)
    by_id = (
        list(db.scalars(select(User).where(User.id.in_(wanted_ids), User.is_active.is_(True)))) if wanted_ids else []
    )
    by_name = users_by_username(db, usernames)
    unknown_ids = sorted(wanted_ids - {user.id for user in by_id})
    unknown_names = [name for name in dict.fromkeys(usernames) if name not in by_name]
    problems = []
    if unknown_ids:
        problems.append((ids_field, f"no such active user(s): {', '.join(map(str, unknown_ids))}"))
    if unknown_names:
        problems.append((usernames_field, f"no such active user(s): {', '.join(unknown_names)}"))
    if problems:
        raise Invalid(
            "; ".join(f"{field}: {message}" for field, message in problems),
            [{"field": field, "location": "body", "message": message} for field, message in problems],
        )
    people = {user.id: user for user in (*by_id, *by_name.values())}
    return sorted(people.values(), key=lambda user: user.username)


# -- notifications ------------------------------------------------------------


def describe(task: Task) -> str:
    """The task as a mail shows it."""
    lines = [
        f"Task: {task.name}",
        f"Status: {task.status.value.replace('_', ' ')}",
        f"Due: {task.due_date.isoformat()}",
        f"Creator: {task.creator.username}",
        f"Performers: {', '.join(user.username for user in task.performers)}",
    ]
    if task.delegated:
        lines.append("Delegated: yes")
    if task.specification:
        lines += ["", task.specification]
    return "\n".join(lines)


def mail_of(request: Request) -> SendMail:
    """How the use cases of a request mail: through the core's mailer, once its transaction commits."""
    return functools.partial(send_mail, request)


def notify(mail: SendMail, task: Task, actor: User, subject: str, news: str = "") -> None:
    """Mail ``news`` and the task's state to its creator and performers, except the ``actor``."""
    people = {user.id: user for user in (task.creator, *task.performers)}
    recipients = sorted(user.email for user in people.values() if user.id != actor.id and user.is_active)
    if recipients:
        body = f"{news}\n\n{describe(task)}\n" if news else f"{describe(task)}\n"
        mail(recipients, subject, body)


# -- tasks --------------------------------------------------------------------


def create_task(db: Session, caller: Identity, fields: TaskIn, *, mail: SendMail) -> Task:
    """A new task by the caller, its creator, with ``fields``. Its people are mailed."""
    ensure_unique(db, Task.name, fields.name)
    task = Task(
        name=fields.name,
        specification=fields.specification,
        due_date=fields.due_date,
        creator=caller.user,
        performers=active_users(db, fields.performer_ids, fields.performer_usernames),
    )
    db.add(task)
    db.flush()
    notify(mail, task, caller.user, f'Task "{task.name}" created by {caller.user.username}')
    return task


def update_task(db: Session, caller: Identity, task_id: int, changes: dict[str, Any], *, mail: SendMail) -> Task:
    """Change the fields in ``changes`` (a ``TaskPatch``'s: a field absent
    stays as it is), as its creator or a performer; the performers only as
    its creator. Values equal to the task's change nothing; when something
    changed its people are mailed."""
    task = changeable_task(db, caller, task_id)
    changed = []
    if "performer_ids" in changes or "performer_usernames" in changes:
        performers = active_users(db, changes.get("performer_ids", ()), changes.get("performer_usernames", ()))
        if {user.id for user in performers} != {user.id for user in task.performers}:
            _require(may_change_performers(caller, task), "only the creator changes the performers")
            task.performers = performers
            changed.append("performers")
    if "name" in changes and changes["name"] != task.name:
        ensure_unique(db, Task.name, changes["name"], exclude=task.id)
    for field in ("name", "specification", "due_date", "status"):
        if field in changes and changes[field] != getattr(task, field):
            setattr(task, field, changes[field])
            changed.append(field)
    if changed:
        task.updated_at = utcnow()
        db.flush()
        who = caller.user.username
        notify(mail, task, caller.user, f'Task "{task.name}" changed by {who}', f"Changed: {', '.join(changed)}")
    return task


def delete_task(db: Session, caller: Identity, task_id: int, *, store: AttachmentStore) -> None:
    """Delete a task with its comments and attachments (its creator, or ``tasks.admin``)."""
    task = readable_task(db, caller, task_id)
    _require(may_delete(db, caller, task), "only the creator or an administrator deletes a task")
    stored = list(db.scalars(select(Attachment.stored_name).where(Attachment.task_id == task.id)))
    db.delete(task)
    store.remove_after_commit(stored)


def delegate_task(db: Session, caller: Identity, task_id: int, successor: DelegateIn, *, mail: SendMail) -> Task:
    """Hand the caller's part of a task they perform to another user (by
    ``user_id`` or ``username``); the task is marked delegated."""
    task = readable_task(db, caller, task_id)
    _require(may_delegate(caller, task), "only a performer delegates a task")
    if successor.user_id is not None:
        (heir,) = active_users(db, ids=[successor.user_id], ids_field="user_id")
    else:
        (heir,) = active_users(db, usernames=[successor.username or ""], usernames_field="username")
    if any(user.id == heir.id for user in task.performers):
        field = "user_id" if successor.user_id is not None else "username"
        raise Conflict(
            "that user performs this task already",
            [{"field": field, "location": "body", "message": "already a performer"}],
        )
    others = [user for user in task.performers if user.id != caller.user_id]
    task.performers = sorted([*others, heir], key=lambda user: user.username)
    task.delegated = True
    task.updated_at = utcnow()
    db.flush()
    me = caller.user.username
    notify(mail, task, caller.user, f'Task "{task.name}" delegated by {me} to {heir.username}')
    return task


# -- comments -----------------------------------------------------------------


def add_comment(db: Session, caller: Identity, task_id: int, text: str, *, mail: SendMail) -> Comment:
    """Comment on a task the caller may read. Its people are mailed."""
    task = readable_task(db, caller, task_id)
    comment = Comment(task=task, author=caller.user, text=text)
    db.add(comment)
    db.flush()
    notify(mail, task, caller.user, f'New comment on "{task.name}" by {caller.user.username}', text)
    return comment


# -- attachments --------------------------------------------------------------


def clean_filename(raw: str | None) -> str:
    """The last part of a client's file name (browsers may send a full path)."""
    name = PureWindowsPath(raw or "").name.strip()
    return name[-255:] or "attachment"


def allowed_type(store: AttachmentStore, declared: str | None, filename: str) -> str:
    """The file's type: as declared, or guessed from its name when the client
    did not say; it must be one the store accepts (else 415)."""
    kind = (declared or "").split(";")[0].strip().lower()
    if kind in ("", GENERIC_TYPE):
        kind = mimetypes.guess_type(filename)[0] or GENERIC_TYPE
    if kind not in store.allowed_types:
        message = f"type {kind} is not allowed; allowed: {', '.join(store.allowed_types)}"
        raise APIError(f"file: {message}", [{"field": "file", "location": "body", "message": message}], status=415)
    return kind


def add_attachment(
    db: Session,
    caller: Identity,
    task_id: int,
    filename: str | None,
    declared_type: str | None,
    content: BinaryIO,
    *,
    store: AttachmentStore,
) -> Attachment:
    """Attach ``content`` to a task the caller may change; its type and size are checked (415, 413)."""
    task = changeable_task(db, caller, task_id)
    name = clean_filename(filename)
    kind = allowed_type(store, declared_type, name)
    stored_name, size = store.save(content)
    attachment = Attachment(
        task=task, uploader=caller.user, filename=name, content_type=kind, size=size, stored_name=stored_name
    )
    db.add(attachment)
    db.flush()
    return attachment


def _attachment_of(db: Session, task: Task, attachment_id: int) -> Attachment:
    attachment = db.get(Attachment, attachment_id) if attachment_id <= MAX_ID else None
    if attachment is None or attachment.task_id != task.id:
        raise HTTPNotFound("no such attachment")
    return attachment


def attachment_file(
    db: Session, caller: Identity, task_id: int, attachment_id: int, *, store: AttachmentStore
) -> tuple[Attachment, Path]:
    """An attachment of a task the caller may read, with the path of its file (404 when it is gone)."""
    attachment = _attachment_of(db, readable_task(db, caller, task_id), attachment_id)
    path = store.path(attachment.stored_name)
    if not path.is_file():
        raise HTTPNotFound("the attachment's file is missing")
    return attachment, path


def delete_attachment(
    db: Session, caller: Identity, task_id: int, attachment_id: int, *, store: AttachmentStore
) -> None:
    """Remove an attachment from a task the caller may change; its file goes once that commits."""
    attachment = _attachment_of(db, changeable_task(db, caller, task_id), attachment_id)
    db.delete(attachment)
    store.remove_after_commit([attachment.stored_name])
