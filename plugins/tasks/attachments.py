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

from pyramid.httpexceptions import HTTPRequestEntityTooLarge
from zope.interface import Interface, implementer

from pyramidion.request import Request

from .settings import TasksSettings

GENERIC_TYPE = "application/octet-stream"
CHUNK = 64 * 1024


class IAttachmentStore(Interface):
    """Where attachment files are kept (see :class:`AttachmentStore`)."""


def too_large(max_size: int) -> HTTPRequestEntityTooLarge:
    return HTTPRequestEntityTooLarge(f"file: larger than the limit of {max_size} bytes")


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
        transaction = self.transaction_manager.get()
        transaction.addAfterCommitHook(lambda committed: committed or target.unlink(missing_ok=True))
        transaction.addAfterAbortHook(lambda: target.unlink(missing_ok=True))
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
