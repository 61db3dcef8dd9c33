"""``/api/tasks``: tasks, delegation, comments and attachments.

Each view validates, calls the use case of :mod:`pyramidion_tasks.services`
(where every rule and permission check lives) and answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import quote

from pyramid.response import FileResponse

from pyramidion.api import Argument, Filter, Invalid, Listing, Page, api_view
from pyramidion.auth import User
from pyramidion.request import Request

from . import services
from .attachments import IAttachmentStore, too_large
from .models import Attachment, Comment, Status, Task
from .schemas import AttachmentOut, CommentIn, CommentOut, DelegateIn, TaskDetail, TaskIn, TaskOut, TaskPatch
from .services import VIEW_ALL, mail_of

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

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


def _task_id(request: Request) -> int:
    return int(request.matchdict["id"])


# -- tasks --------------------------------------------------------------------


@api_view("tasks.tasks", query=task_listing, response=Page[TaskOut])
def list_tasks(request: Request, query: Any) -> dict[str, Any]:
    """Tasks, latest due date first: yours by default, every task with ``?scope=all``."""
    return query.page(services.tasks_visible(request.db, request.identity, query.arguments["scope"]))


@api_view(
    "tasks.tasks", request_method="POST", body=TaskIn, response=TaskOut, status=201, responses={409: "Name taken"}
)
def create_task(request: Request, body: TaskIn) -> Task:
    """Create a task; you are its creator. Its people are mailed."""
    return services.create_task(request.db, request.identity, body, mail=mail_of(request))


@api_view("tasks.task", response=TaskDetail)
def get_task(request: Request) -> Task:
    """One task with its attachments and its comments, newest first."""
    return services.readable_task(request.db, request.identity, _task_id(request), discussion=True)


@api_view("tasks.task", request_method="PATCH", body=TaskPatch, response=TaskOut, responses={409: "Name taken"})
def update_task(request: Request, body: TaskPatch) -> Task:
    """Change a task (its creator or a performer; the performers only by the creator)."""
    changes = body.changes()
    return services.update_task(request.db, request.identity, _task_id(request), changes, mail=mail_of(request))


@api_view("tasks.task", request_method="DELETE", status=204)
def delete_task(request: Request) -> None:
    """Delete a task with its comments and attachments (its creator, or ``tasks.admin``)."""
    store = request.find_service(IAttachmentStore)
    services.delete_task(request.db, request.identity, _task_id(request), store=store)


@api_view(
    "tasks.delegate", request_method="POST", body=DelegateIn, response=TaskOut, responses={409: "Already a performer"}
)
def delegate_task(request: Request, body: DelegateIn) -> Task:
    """Hand your part of a task you perform to another user; the task is marked delegated."""
    return services.delegate_task(request.db, request.identity, _task_id(request), body, mail=mail_of(request))


# -- comments -----------------------------------------------------------------


@api_view("tasks.comments", request_method="POST", body=CommentIn, response=CommentOut, status=201)
def add_comment(request: Request, body: CommentIn) -> Comment:
    """Comment on a task you may read. Its people are mailed."""
    return services.add_comment(request.db, request.identity, _task_id(request), body.text, mail=mail_of(request))


# -- attachments --------------------------------------------------------------


@api_view(
    "tasks.attachments",
    request_method="POST",
    response=AttachmentOut,
    status=201,
    upload="file",
    responses={413: "File too large", 415: "File type not allowed"},
)
def upload_attachment(request: Request) -> Attachment:
    """Attach a file (multipart/form-data field ``file``) to a task you may change.

    Types and size are limited by ``tasks.attachments.allowed_types`` and
    ``tasks.attachments.max_size``.
    """
    store = request.find_service(IAttachmentStore)
    # Refused before the body is read.
    if request.content_length is not None and request.content_length > store.max_size + MULTIPART_OVERHEAD:
        raise too_large(store.max_size)
    upload = request.POST.get("file")
    if not hasattr(upload, "file"):
        raise Invalid.field("file", "send the file as the multipart/form-data field 'file'")
    return services.add_attachment(
        request.db, request.identity, _task_id(request), upload.filename, upload.type, upload.file, store=store
    )


@api_view("tasks.attachment", content_type="application/octet-stream")
def download_attachment(request: Request) -> FileResponse:
    """Download an attachment of a task you may read."""
    attachment, path = services.attachment_file(
        request.db,
        request.identity,
        _task_id(request),
        int(request.matchdict["attachment_id"]),
        store=request.find_service(IAttachmentStore),
    )
    return attachment_response(request, attachment, path)


def attachment_response(request: Request, attachment: Attachment, path: Any) -> FileResponse:
    """The file as a download, never shown inline (a page could not run it as HTML)."""
    response = FileResponse(str(path), request=request, content_type=attachment.content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@api_view("tasks.attachment", request_method="DELETE", status=204)
def delete_attachment(request: Request) -> None:
    """Remove an attachment from a task you may change."""
    services.delete_attachment(
        request.db,
        request.identity,
        _task_id(request),
        int(request.matchdict["attachment_id"]),
        store=request.find_service(IAttachmentStore),
    )
