"""The ``jobs.*`` settings."""

from __future__ import annotations

from pydantic import Field

from pyramidion.settings import Section


class JobsSettings(Section):
    credentials_key: str | None = Field(None, description="Fernet key(s); derived from jwt.secret when unset")
    flush_interval: float = Field(0.5, ge=0, description="seconds between writes of a running job's progress")
    # A running run's worker renews its lease every quarter of it; the lost runs are looked
    # for as often (and at each worker's start): a dead worker's run fails within twice this.
    lease_seconds: float = Field(
        20, ge=1, le=3600, description="seconds a running run's lease lasts unless its worker renews it"
    )
