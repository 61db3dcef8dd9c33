"""The request and registry as the core extends them, for type annotations.

Pyramid hands views, tasks and realtime callbacks a plain
``pyramid.request.Request``; the core's includes add ``db``, ``identity``,
``task``, ``realtime`` and pyramid_services' ``find_service`` to it, and
settings and services to the registry. These classes name what is there, so
``def view(request: Request)`` reads, completes and type-checks::

    from pyramidion.request import Request

    @api_view("hello.greetings", body=GreetingIn, response=GreetingOut)
    def create_greeting(request: Request, body: GreetingIn) -> Greeting:
        ...

They are never instantiated: they describe the objects Pyramid makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyramid.registry import Registry as PyramidRegistry
from pyramid.request import Request as PyramidRequest

if TYPE_CHECKING:
    from huey import Huey
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from .auth.policy import Identity
    from .plugins import PluginManager
    from .queue import AfterCommitTask
    from .realtime import Publisher, RequestPublisher

__all__ = ["Registry", "Request"]


class Registry(PyramidRegistry):
    """``request.registry`` (and ``config.registry``) once the core is configured."""

    settings: dict[str, Any]
    pm: PluginManager
    pyramidion_version: str
    db_engine: Engine
    db_read_engine: Engine
    db_session_factory: sessionmaker[Session]
    huey: Huey
    huey_tasks: dict[Callable[..., Any], Any]
    passwords: Any  # the argon2 hasher set by the auth settings: hash(), verify()
    token_codec: Any
    realtime: Publisher
    permissions: dict[str, str]
    default_groups: dict[str, list[str]]


class Request(PyramidRequest):
    """A request of the platform: what views, tasks and realtime callbacks receive."""

    registry: Registry
    db: Session
    """The session joined to this request's transaction (``pyramid_tm``)."""
    identity: Identity | None
    """The user calling and how (token, API key, console session); ``None`` when anonymous."""
    task: Callable[[Callable[..., Any]], AfterCommitTask]
    """``request.task(fn)(*args)``: enqueue the background task ``fn`` once the transaction commits."""
    realtime: RequestPublisher
    """``request.realtime.publish(topic, ...)``: a WAMP event sent once the transaction commits."""
    find_service: Callable[..., Any]
    """pyramid_services' lookup: ``request.find_service(IMailer)``."""
