"""The ``realtime.*`` settings, read by every process that talks to the router."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pydantic import Field

from ..settings import Section, SettingsError, as_list, section


class RealtimeSettings(Section):
    realm: str = "pyramidion"
    host: str = "127.0.0.1"
    port: int = Field(8080, gt=0, lt=65536)
    publish_timeout: float = Field(2.0, gt=0, description="seconds a publish may take before it counts as failed")
    # Shared by the router, the backend session (WAMP-CRA) and publishers
    # (signed HTTP bridge). Empty: derived from jwt.secret, so a development
    # setup needs no secret of its own.
    secret: str = Field("", description="at least 32 characters, or empty to derive it from jwt.secret")
    crossbar_venv: str = Field(
        "", description="the router's virtualenv; empty: ~/.cache/pyramidion/crossbar-<version>-r<recipe>"
    )
    node_dir: str = Field("", description="the router's node directory; empty: var/router next to the ini file")
    backend_threads: int = Field(8, gt=0, description="threads of the backend session for database work")
    # What browsers join: behind a proxy, e.g. wss://example.org/ws. Empty: websocket_url.
    public_url: str = Field("", description="the WebSocket URL the console's live pages join; empty: ws://host:port/ws")
    # The only origins whose pages may open the router's WebSocket (clients that send no
    # Origin, robots and the backend, are not browsers and are not concerned).
    allowed_origins: str = Field(
        "", description="origins of the console, e.g. https://example.org; empty: the web server's own (its ini)"
    )

    @property
    def browser_url(self) -> str:
        return self.public_url or self.websocket_url

    @property
    def origins(self) -> list[str]:
        return as_list(self.allowed_origins)

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def realtime_settings(settings: dict[str, Any]) -> RealtimeSettings:
    """The validated ``realtime.*`` settings, with the secret filled in."""
    config = section(settings, "realtime", RealtimeSettings)
    if config.secret and len(config.secret) < 32:
        raise SettingsError(
            "realtime.secret: must have at least 32 characters, or be empty to derive it from jwt.secret"
        )
    if not config.secret:
        derived = hmac.new(str(settings["jwt.secret"]).encode(), b"pyramidion realtime", hashlib.sha256).hexdigest()
        config = config.model_copy(update={"secret": derived})
        settings["realtime.secret"] = derived
    return config
