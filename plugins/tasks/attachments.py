"""Attachment files on disk, kept in step with their rows.

A file is written under a random name before its row commits; if the
transaction then fails the file is removed, and files of deleted rows go only
once the deletion has committed, so disk and database never disagree for long.

The store is a pyramid_services service (:class:`IAttachmentStore`), one per
request since it follows the request's transaction; a test may register
another.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from pyramid.response import FileResponse
from zope.interface import Interface, implementer

from pyramidion.api import APIError, Invalid
from pyramidion.request import Registry, Request

from .models import Attachment
from .settings import TasksSettings

GENERIC_TYPE = "application/octet-stream"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
CHUNK = 64 * 1024


class IAttachmentStore(Interface):
    """Where attachment files are kept (see :class:`AttachmentStore`)."""


def too_large(max_size: int) -> APIError:
    """The 413 of a file over the limit."""
    message = f"larger than the limit of {max_size} bytes"
    return APIError(f"file: {message}", [{"field": "file", "location": "body", "message": message}], status=413)


def upload_body_limit(registry: Registry) -> int:
    """The largest body an upload may have: the file's limit and room for the multipart around it."""
    return registry.tasks_settings.attachments_max_size + MULTIPART_OVERHEAD


def uploaded_file(request: Request, store: AttachmentStore) -> Any:
    """The file of a multipart upload's field ``file`` (a 422 without one), its
    request refused (413) before the body is read when it says it is too large."""
    if request.content_length is not None and request.content_length > store.max_size + MULTIPART_OVERHEAD:
        raise too_large(store.max_size)
    upload = request.POST.get("file")
    if not hasattr(upload, "file"):
        raise Invalid.field("file", "send the file as the multipart/form-data field 'file'")
    return upload


def download(request: Request, attachment: Attachment, path: Path) -> FileResponse:
    """The file as a download, never shown inline (a page could not run it as HTML)."""
    response = FileResponse(str(path), request=request, content_type=attachment.content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@implementer(IAttachmentStore)
class AttachmentStore:
    """Files under ``root`` of at most ``max_size`` bytes, of ``allowed_types``,
    written and removed with the transaction of ``transaction_manager``."""

    def __init__(self, root: Path, max_size: int, allowed_types: list[str], transaction_manager: Any) -> None:
        self.root = root
        self.max_size = max_size
        self.allowed_types = allowed_types
        self.transaction_manager = transaction_manager

    @classmethod
    def factory(cls, config: TasksSettings) -> Any:
        """A pyramid_services factory: the store of each request."""
        # Resolved now: a worker started elsewhere must find the same files.
        root = config.attachments_path.resolve()

        def store_of(context: Any, request: Request) -> AttachmentStore:
            return cls(root, config.attachments_max_size, config.attachments_allowed_types, request.tm)

        return store_of

    def path(self, stored_name: str) -> Path:
        return self.root / stored_name

    def save(self, source: BinaryIO) -> tuple[str, int]:
        """Copy ``source`` (at most ``max_size`` bytes, else 413) to a new
        file; returns its stored name and size.

        The file is removed again unless the transaction commits.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        stored_name = uuid.uuid4().hex
        target = self.path(stored_name)

        def remove_unless_committed(committed: bool = False) -> None:
            if not committed:
                target.unlink(missing_ok=True)

        transaction = self.transaction_manager.get()
        transaction.addAfterCommitHook(remove_unless_committed)
        transaction.addAfterAbortHook(remove_unless_committed)
        size = 0
        with target.open("xb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > self.max_size:
                    raise too_large(self.max_size)
                out.write(chunk)
        return stored_name, size

    def remove_after_commit(self, stored_names: list[str]) -> None:
        """Remove these files once the transaction commits (they stay if it fails)."""

        def remove(committed: bool) -> None:
            if committed:
                for name in stored_names:
                    self.path(name).unlink(missing_ok=True)

        self.transaction_manager.get().addAfterCommitHook(remove)
