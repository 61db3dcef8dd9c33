"""The ``tasks.*`` settings: mail delivery of notifications and attachment limits."""

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
    smtp_host: str = Field("localhost", alias="smtp.host")
    smtp_port: int = Field(25, gt=0, lt=65536, alias="smtp.port")
    smtp_sender: str = Field("pyramidion@localhost", alias="smtp.sender")
    smtp_username: str = Field("", alias="smtp.username")
    smtp_password: str = Field("", alias="smtp.password")
    smtp_starttls: bool = Field(False, alias="smtp.starttls")
    smtp_timeout: float = Field(30, gt=0, alias="smtp.timeout", description="seconds")
    notify_retries: int = Field(3, ge=0, alias="notify.retries")
    notify_retry_delay: float = Field(300, ge=0, alias="notify.retry_delay", description="seconds")
    attachments_path: Path = Field(Path("var/tasks/attachments"), alias="attachments.path")
    attachments_max_size: int = Field(10 * 1024 * 1024, gt=0, alias="attachments.max_size", description="bytes")
    attachments_allowed_types: Annotated[list[str], BeforeValidator(as_list)] = Field(
        DEFAULT_ALLOWED_TYPES, alias="attachments.allowed_types"
    )


def read_settings(settings: dict[str, Any]) -> TasksSettings:
    """Validate the ``tasks.*`` settings (stopping startup when one is wrong)."""
    return section(settings, "tasks", TasksSettings)
