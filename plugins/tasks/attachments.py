"""Attachment files on disk: checked on the way in, removed with their rows.

A file is written under a random name before its row commits; if the
transaction then fails the file is removed, and files of deleted rows go only
once the deletion has committed, so disk and database never disagree for long.
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import Path, PureWindowsPath
from typing import Any, BinaryIO

from pyramid.httpexceptions import HTTPRequestEntityTooLarge, HTTPUnsupportedMediaType

from pyramidion.api import Invalid

from .settings import TasksSettings

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
GENERIC_TYPE = "application/octet-stream"
CHUNK = 64 * 1024


def too_large(max_size: int) -> HTTPRequestEntityTooLarge:
    return HTTPRequestEntityTooLarge(f"file: larger than the limit of {max_size} bytes")


def check_declared_size(config: TasksSettings, content_length: int | None) -> None:
    """Refuse an oversized upload before its body is read."""
    if content_length is not None and content_length > config.attachments_max_size + MULTIPART_OVERHEAD:
        raise too_large(config.attachments_max_size)


def uploaded_file(request: Any) -> Any:
    field = request.POST.get("file")
    if not hasattr(field, "file"):
        raise Invalid.field("file", "send the file as the multipart/form-data field 'file'")
    return field


def clean_filename(raw: str | None) -> str:
    """The last part of a client's file name (browsers may send a full path)."""
    name = PureWindowsPath(raw or "").name.strip()
    return name[-255:] or "attachment"


def content_type(config: TasksSettings, declared: str | None, filename: str) -> str:
    """The file's type: as declared, or guessed from its name when the client
    did not say; it must be one of ``tasks.attachments.allowed_types``."""
    kind = (declared or "").split(";")[0].strip().lower()
    if kind in ("", GENERIC_TYPE):
        kind = mimetypes.guess_type(filename)[0] or GENERIC_TYPE
    if kind not in config.attachments_allowed_types:
        raise HTTPUnsupportedMediaType(
            f"file: type {kind} is not allowed; allowed: {', '.join(config.attachments_allowed_types)}"
        )
    return kind


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, stored_name: str) -> Path:
        return self.root / stored_name

    def save(self, request: Any, source: BinaryIO, max_size: int) -> tuple[str, int]:
        """Copy ``source`` (at most ``max_size`` bytes) to a new file; returns
        its stored name and size.

        The file is removed again unless the request's transaction commits.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        stored_name = uuid.uuid4().hex
        target = self.path(stored_name)
        transaction = request.tm.get()
        transaction.addAfterCommitHook(lambda committed: committed or target.unlink(missing_ok=True))
        transaction.addAfterAbortHook(lambda: target.unlink(missing_ok=True))
        size = 0
        with target.open("xb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_size:
                    raise too_large(max_size)
                out.write(chunk)
        return stored_name, size

    def remove_after_commit(self, request: Any, stored_names: list[str]) -> None:
        def remove(committed: bool) -> None:
            if committed:
                for name in stored_names:
                    self.path(name).unlink(missing_ok=True)

        request.tm.get().addAfterCommitHook(remove)
