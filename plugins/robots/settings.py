"""The ``robots.*`` settings."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pyramidion.settings import Section, section


class RobotsSettings(Section):
    token_ttl: int = Field(30, gt=0, description="seconds a robot has to join the router with its token")
    token_max_failures: int = Field(10, gt=0, description="refused token requests per serial or address in the window")
    token_failure_window: int = Field(300, gt=0, description="seconds over which refused token requests count")
    command_ttl: int = Field(300, gt=0, description="seconds a command stays valid for delivery")
    frame_batch_size: int = Field(500, gt=0, description="frames stored per transaction at most")
    status_interval: float = Field(
        0.1, gt=0, description="seconds between live status publications of a robot's frames"
    )
    frame_ack_timeout: float = Field(
        10.0, gt=0, description="seconds a frame may wait to be stored before its call fails"
    )


def robots_settings(settings: dict[str, Any]) -> RobotsSettings:
    return section(settings, "robots", RobotsSettings)
