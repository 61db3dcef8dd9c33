"""``/api/tasks``: tasks, delegation, comments and attachments.

Each view validates, calls the use case of :mod:`pyramidion_tasks.services`
(where every rule and permission check lives) and answers.
"""

from __future__ import annotations

from typing import Any

from pyramid.response import FileResponse

from pyramidion.api import ListQuery, Page, api_view
from pyramidion.request import Request

from . import reads, services
from .attachments import IAttachmentStore, download, upload_body_limit, uploaded_file
from .models import Attachment, Comment, Task
from .schemas import AttachmentOut, CommentIn, CommentOut, DelegateIn, TaskDetail, TaskIn, TaskOut, TaskPatch
from .services import mail_of


def _task_id(request: Request) -> int:
    return int(request.matchdict["id"])


# -- tasks --------------------------------------------------------------------


# The list and the detail build their answers from rows themselves (see .reads).
@api_view("tasks.tasks", query=services.task_listing, response=Page[TaskOut], validate_response=False)
def list_tasks(request: Request, query: ListQuery) -> dict[str, Any]:
    """Tasks, latest due date first: yours by default, every task with ``?scope=all``."""
    return reads.task_page(request.db, request.identity, query)


@api_view(
    "tasks.tasks", request_method="POST", body=TaskIn, response=TaskOut, status=201, responses={409: "Name taken"}
)
def create_task(request: Request, body: TaskIn) -> Task:
    """Create a task; you are its creator. Its people are mailed."""
    return services.create_task(request.db, request.identity, body, mail=mail_of(request))


@api_view("tasks.task", response=TaskDetail, validate_response=False)
def get_task(request: Request) -> dict[str, Any]:
    """One task with its attachments and its comments, newest first."""
    return reads.task_detail(request.db, request.identity, _task_id(request))


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
    max_body_size=upload_body_limit,
    responses={413: "File too large", 415: "File type not allowed"},
)
def upload_attachment(request: Request) -> Attachment:
    """Attach a file (multipart/form-data field ``file``) to a task you may change.

    Types and size are limited by ``tasks.attachments.allowed_types`` and
    ``tasks.attachments.max_size``.
    """
    store = request.find_service(IAttachmentStore)
    upload = uploaded_file(request, store)
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
    return download(request, attachment, path)


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
