"""Real time: WAMP through a Crossbar.io router.

Three kinds of process talk to the router (``README.md`` in this folder says
more):

* web and worker processes publish through the router's signed HTTP bridge:
  ``request.realtime.publish(topic, *args, **kwargs)`` sends after the
  request's transaction commits and never fails the request, nor blocks it
  longer than ``realtime.publish_timeout``, when the router is down (the
  failure is logged and counted);
* the backend session (``pyramidion realtime``, :mod:`.backend`) authenticates
  and authorizes clients and serves what plugins declare through the
  ``pyramidion_realtime`` hook;
* clients (browsers, robots) join the realm with a ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..request import Request
from .publisher import Publisher
from .settings import RealtimeSettings, realtime_settings
from .uris import owned_uri, user_topic

__all__ = [
    "BackendSession",
    "Caller",
    "Principal",
    "Publisher",
    "RealtimeSettings",
    "includeme",
    "owned_uri",
    "realtime_settings",
    "user_topic",
]

# Autobahn (and what it imports) loads only where the backend session runs, not in
# every web process that merely publishes over HTTP (issue 17: a web worker's memory).
# Type checkers see plain imports, so they still catch a misspelt name.
if TYPE_CHECKING:
    from .backend import BackendSession, Caller, Principal
else:
    _BACKEND_NAMES = {"BackendSession", "Caller", "Principal"}

    def __getattr__(name: str) -> Any:
        if name in _BACKEND_NAMES:
            from . import backend

            return getattr(backend, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RequestPublisher:
    """``request.realtime``: events leave only when the request's transaction commits."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> None:
        publisher: Publisher = self.request.registry.realtime

        def send(committed: bool) -> None:
            if committed:
                publisher.publish(topic, *args, **kwargs)

        self.request.tm.get().addAfterCommitHook(send)


def includeme(config: Any) -> None:
    config.registry.realtime = Publisher(realtime_settings(config.get_settings()))
    config.add_request_method(RequestPublisher, "realtime", reify=True)
