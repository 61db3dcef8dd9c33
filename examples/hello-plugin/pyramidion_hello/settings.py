"""The ``hello.*`` settings, checked at startup."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pyramidion.settings import Section, section


class HelloSettings(Section):
    max_per_user: int = Field(100, gt=0, description="greetings one user may keep")


def read_settings(settings: dict[str, Any]) -> HelloSettings:
    """Validate ``hello.*`` (a bad value stops startup, naming it) and write the typed values back."""
    return section(settings, "hello", HelloSettings)
