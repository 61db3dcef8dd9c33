"""Background work: one Huey instance, tasks declared by plugins.

A plugin writes a task as a plain function that takes a request first::

    @task(retries=3, retry_delay=300)
    def send_notification(request, task_id: int) -> None:
        ...  # request.db, request.registry.settings, request.realtime

and returns it from its ``pyramidion_background_tasks`` hook (with those marked
``@periodic_task(crontab(...))``, and ``@startup_task()`` for what each worker
runs as it starts). The worker calls it with a
request of its own, inside a transaction that commits when it returns (and
rolls back when it raises, so Huey's retry starts from a clean state).

Request code enqueues with ``request.task(send_notification)(42)``. Nothing
is sent before the request's transaction commits, so a task never sees data
that was rolled back or not yet written.

``huey.url`` picks the storage: ``redis://host:port/db`` in production,
``sqlite:///path/huey.db`` embedded, ``memory`` or ``immediate`` (run at once,
in process) for tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab  # noqa: F401  (crontab re-exported)
from huey.api import TaskWrapper

from .db import in_request_transaction
from .request import Request
from .settings import Section, SettingsError, section

log = logging.getLogger(__name__)

_OPTIONS = "__pyramidion_task__"


class QueueSettings(Section):
    """The ``huey.*`` settings."""

    url: str = "immediate"
    name: str = "pyramidion"
    workers: int = 2
    # Every consumer would run the periodic scheduler; exactly one should.
    periodic: bool = True


def task(**options: Any) -> Callable[[Callable], Callable]:
    """Mark ``fn(request, *args)`` as a background task; ``options`` go to ``huey.task``."""

    def mark(fn: Callable) -> Callable:
        setattr(fn, _OPTIONS, ("task", None, options))
        return fn

    return mark


def periodic_task(schedule: Callable[[dt.datetime], bool], **options: Any) -> Callable[[Callable], Callable]:
    """Mark ``fn(request)`` to run on ``schedule`` (a :func:`huey.crontab`)."""

    def mark(fn: Callable) -> Callable:
        setattr(fn, _OPTIONS, ("periodic", schedule, options))
        return fn

    return mark


def startup_task() -> Callable[[Callable], Callable]:
    """Mark ``fn(request)`` to run as each worker starts (Huey's ``on_startup``: once per worker thread).

    For what must not wait for the first periodic run: taking stock of what
    a worker that died left behind. It runs in a request and transaction of
    its own, like a task; an exception is logged and the worker starts anyway.
    """

    def mark(fn: Callable) -> Callable:
        setattr(fn, _OPTIONS, ("startup", None, {}))
        return fn

    return mark


def make_huey(settings: dict[str, Any]) -> Huey:
    """The Huey instance ``huey.url`` names."""
    config = section(settings, "huey", QueueSettings)
    url = config.url
    if url == "immediate":
        return MemoryHuey(config.name, immediate=True, utc=True)
    if url == "memory":
        return MemoryHuey(config.name, utc=True)
    if url.startswith("sqlite:///"):
        filename = Path(url[len("sqlite:///") :])
        filename.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(config.name, filename=str(filename), utc=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(config.name, url=url, utc=True)
    raise SettingsError(f"huey.url: {url!r} is not immediate, memory, sqlite:///<file> or redis://<host>")


def task_name(fn: Callable) -> str:
    """``<module>.<name>`` of a task function, as messages name it."""
    return f"{fn.__module__}.{fn.__qualname__}"


def register_tasks(registry: Any, huey: Huey, functions: Iterable[Callable]) -> None:
    """Register each marked function with ``huey`` (startup ones as hooks), run in a request and transaction of its own."""
    for fn in functions:
        kind, schedule, options = getattr(fn, _OPTIONS)
        wrapped = in_request_transaction(registry, fn)
        # Huey names a task "<module>.<name>"; the wrapper carries fn's module.
        name = fn.__qualname__
        if kind == "startup":
            huey.on_startup(task_name(fn))(wrapped)
        elif kind == "periodic":
            registry.huey_tasks[fn] = huey.periodic_task(schedule, name=name, **options)(wrapped)
        else:
            registry.huey_tasks[fn] = huey.task(name=name, **options)(wrapped)


def declared_tasks(declared: Any) -> list[Callable]:
    """The task functions in what a ``pyramidion_background_tasks`` hook returned."""
    if declared is None:
        return []
    items = (
        vars(declared).values()
        if hasattr(declared, "__dict__") and not isinstance(declared, (list, tuple))
        else declared
    )
    return [item for item in items if callable(item) and hasattr(item, _OPTIONS)]


class AfterCommitTask:
    """A task bound to a request: enqueued only if the request's transaction commits."""

    def __init__(self, request: Request, wrapper: TaskWrapper) -> None:
        self.request = request
        self.wrapper = wrapper

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        """Enqueue with these arguments after commit; returns the Huey task id."""
        return self.schedule(args, kwargs)

    def schedule(
        self,
        args: tuple = (),
        kwargs: dict[str, Any] | None = None,
        eta: dt.datetime | None = None,
        delay: float | None = None,
    ) -> str:
        """Enqueue after commit (at ``eta`` or after ``delay`` seconds); returns the Huey task id."""
        task_id = str(uuid.uuid4())
        wrapper = self.wrapper

        def enqueue(committed: bool) -> None:
            if not committed:
                return
            if eta is None and delay is None:
                wrapper.huey.enqueue(wrapper.s(*args, id=task_id, **(kwargs or {})))
            else:
                wrapper.schedule(args=args, kwargs=kwargs or {}, eta=eta, delay=delay, id=task_id)

        self.request.tm.get().addAfterCommitHook(_logged(enqueue, wrapper.name))
        return task_id


def _logged(hook: Callable[[bool], None], name: str) -> Callable[[bool], None]:
    # An after-commit hook must not raise: the data is committed already, and
    # an exception here would turn a successful request into a 500.
    def run(committed: bool) -> None:
        try:
            hook(committed)
        except Exception:
            log.exception("could not enqueue task %s after commit", name)

    return run


def request_task(request: Request, fn: Callable) -> AfterCommitTask:
    """``request.task(fn)``: the task ``fn`` bound to the request's transaction."""
    try:
        wrapper = request.registry.huey_tasks[fn]
    except KeyError:
        raise LookupError(
            f"{task_name(fn)} is not a registered task; return it from pyramidion_background_tasks"
        ) from None
    return AfterCommitTask(request, wrapper)


def includeme(config: Any) -> None:
    """Make ``registry.huey`` and ``request.task``."""
    registry = config.registry
    registry.huey = make_huey(config.get_settings())
    registry.huey_tasks = {}
    config.add_request_method(request_task, "task")


def register_plugin_tasks(registry: Any) -> None:
    """Register the tasks every plugin returns from ``pyramidion_background_tasks``."""
    for declared in registry.pm.hook.pyramidion_background_tasks(huey=registry.huey):
        register_tasks(registry, registry.huey, declared_tasks(declared))
