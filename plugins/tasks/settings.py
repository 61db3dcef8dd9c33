"""The ``tasks.*`` settings: where attachments are kept and what they may be.

Notifications leave through the core's mailer: its ``mail.*`` settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from pyramidion.settings import Section, as_list, section

DEFAULT_ALLOWED_TYPES = [
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "text/csv",
    "text/plain",
]


class TasksSettings(Section):
    attachments_path: Path = Field(Path("var/tasks/attachments"), alias="attachments.path")
    attachments_max_size: int = Field(10 * 1024 * 1024, gt=0, alias="attachments.max_size", description="bytes")
    attachments_allowed_types: Annotated[list[str], BeforeValidator(as_list)] = Field(
        DEFAULT_ALLOWED_TYPES, alias="attachments.allowed_types"
    )


def read_settings(settings: dict[str, Any]) -> TasksSettings:
    """Validate the ``tasks.*`` settings (stopping startup when one is wrong)."""
    return section(settings, "tasks", TasksSettings)
