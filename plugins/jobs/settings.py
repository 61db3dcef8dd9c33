"""The ``jobs.*`` settings."""

from __future__ import annotations

from pydantic import Field

from pyramidion.settings import Section


class JobsSettings(Section):
    credentials_key: str | None = Field(None, description="Fernet key(s); derived from jwt.secret when unset")
    flush_interval: float = Field(0.5, ge=0, description="seconds between writes of a running job's progress")
