"""Real time: WAMP through a Crossbar.io router.

Web and worker processes publish through the router's HTTP publisher bridge:
``request.realtime.publish(topic, *args, **kwargs)`` sends after the
transaction commits and never fails or blocks the request for long when the
router is down (the failure is logged and counted).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from pydantic import Field

from ..settings import Section, section

log = logging.getLogger(__name__)


class RealtimeSettings(Section):
    realm: str = "pyramidion"
    host: str = "127.0.0.1"
    port: int = Field(8080, gt=0, lt=65536)
    publish_timeout: float = Field(2.0, gt=0)

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def publisher_url(self) -> str:
        return f"http://{self.host}:{self.port}/publish"


class Publisher:
    """Publishes events to the router over its HTTP bridge; thread-safe."""

    def __init__(self, config: RealtimeSettings) -> None:
        self.config = config
        self.http = requests.Session()
        self.failures = 0
        self.published = 0
        self._lock = threading.Lock()

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> bool:
        """Publish now; True when the router took it. Never raises."""
        try:
            response = self.http.post(
                self.config.publisher_url,
                json={"topic": topic, "args": list(args), "kwargs": kwargs},
                timeout=self.config.publish_timeout,
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            with self._lock:
                self.failures += 1
            log.warning("could not publish to %s: %s", topic, exc)
            return False
        with self._lock:
            self.published += 1
        return True

    def ping(self) -> str:
        response = self.http.get(f"http://{self.config.host}:{self.config.port}/info", timeout=self.config.publish_timeout)
        response.raise_for_status()
        return "reachable"


class RequestPublisher:
    """``request.realtime``: events leave only when the request's transaction commits."""

    def __init__(self, request: Any) -> None:
        self.request = request

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> None:
        publisher = self.request.registry.realtime

        def send(committed: bool) -> None:
            if committed:
                publisher.publish(topic, *args, **kwargs)

        self.request.tm.get().addAfterCommitHook(send)


def includeme(config: Any) -> None:
    config.registry.realtime = Publisher(section(config.get_settings(), "realtime", RealtimeSettings))
    config.add_request_method(RequestPublisher, "realtime", reify=True)
