"""Real time under test: a real Crossbar router, the backend session, real WAMP clients.

A pytest plugin (entry point ``pyramidion_realtime`` in the group ``pytest11``):

* ``router`` (one per test process): a Crossbar router on a free loopback
  port, from a temporary node directory, configured exactly as
  ``pyramidion router start`` would (plus the roles ``router_extra_roles``
  names, for plugins written inside tests). ``router.overrides`` are the settings that point an app at it;
  ``router.restart()`` stops and starts it on the same port. Tests are
  skipped when the router is not installed (``pyramidion router install``).
* ``start_backend(extra_plugins=())``: the backend session (``pyramidion
  realtime``) in a thread, over the test database, joined when it returns;
  stopped after the test.
* ``realtime_app(extra_plugins=())``: a WebTest app that publishes to the router.
* ``ticket(user)``: a WAMP ticket for ``user`` (the access token of a fresh login).
* ``wamp_client(ticket)``: a real Autobahn client that joins at once or fails
  at once (no retries); its methods block for at most ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.types import ComponentConfig, PublishOptions, SubscribeOptions

from .. import make_config
from ..realtime import BackendSession, realtime_settings
from ..realtime.commands import backend_session
from ..realtime.router import (
    crossbar_venv,
    router_config,
    router_installed,
    start_command,
    write_node_config,
)
from .support import TIMEOUT, JoinRefused, free_port

__all__ = ["Client", "RunningBackend", "Router"]

ROUTER_START_TIMEOUT = 60.0  # Crossbar takes 4 s on an idle machine, much longer on a busy one


class Router:
    """A Crossbar router process on loopback, from its own node directory."""

    def __init__(self, node_dir: Path, settings: dict[str, Any], roles: set[str]) -> None:
        self.node_dir = node_dir
        self.port = free_port()
        self.overrides = {"realtime.port": str(self.port), "realtime.publish_timeout": "5"}
        self.config = realtime_settings({**settings, **self.overrides})
        write_node_config(node_dir, router_config(self.config, roles))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the router and wait until it answers."""
        with open(self.node_dir / "router.log", "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                start_command(crossbar_venv(), self.node_dir, loglevel="warn"), stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        # Crossbar needs a few seconds to start; /info answers once the transport listens.
        with requests.Session() as http:
            for _ in range(int(ROUTER_START_TIMEOUT / 0.25)):
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"the router exited; see {self.node_dir / 'router.log'}")
                try:
                    http.get(f"{self.config.base_url}/info", timeout=0.25).raise_for_status()
                    return
                except requests.RequestException:
                    time.sleep(0.25)  # polling for readiness, bounded
        raise RuntimeError(
            f"the router did not start within {ROUTER_START_TIMEOUT} s; see {self.node_dir / 'router.log'}"
        )

    def stop(self) -> None:
        """Stop the router (killed if it does not stop in time)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start again, on the same port and configuration (rewritten meanwhile, perhaps)."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def router_extra_roles() -> set[str]:
    """Client roles the router accepts besides those the installed plugins declare (override it)."""
    return set()


@pytest.fixture(scope="session")
def router(
    tmp_path_factory: pytest.TempPathFactory,
    base_settings: dict[str, Any],
    _config: Any,
    router_extra_roles: set[str],
) -> Iterator[Router]:
    """A real Crossbar router for this test process; the tests are skipped when it is not installed."""
    if not router_installed():
        pytest.skip(f"the Crossbar router is not installed in {crossbar_venv()}: run `pyramidion router install`")
    roles = backend_session(_config.registry).roles | set(router_extra_roles)
    router = Router(tmp_path_factory.mktemp("router"), base_settings, roles)
    router.start()
    yield router
    router.stop()


class RunningBackend:
    """The backend session on an event loop of its own, in a thread."""

    def __init__(self, session: BackendSession) -> None:
        self.session = session
        self._thread = threading.Thread(target=self._run, name="realtime-backend", daemon=True)
        self._thread.start()
        if not session.joined.wait(TIMEOUT):
            self.stop()
            raise RuntimeError("the backend session did not join the router")

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None  # _main is the task asyncio.run runs
        self._task = task
        with contextlib.suppress(asyncio.CancelledError):
            await self.session.run()

    def stop(self) -> None:
        """Cancel the session and wait until it has stopped; stopping a stopped backend does nothing."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it has stopped already
                self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(TIMEOUT)


@pytest.fixture
def start_backend(router: Router, base_settings: dict[str, Any]) -> Iterator[Callable[..., RunningBackend]]:
    """``start_backend(extra_plugins=())``: the backend session in a thread, joined when it returns."""
    running: list[RunningBackend] = []

    def start(extra_plugins: tuple = ()) -> RunningBackend:
        registry = make_config({**base_settings, **router.overrides}, extra_plugins).registry
        running.append(RunningBackend(backend_session(registry)))
        return running[-1]

    yield start
    for backend in running:
        backend.stop()
        backend.session.registry.db_engine.dispose()


@pytest.fixture
def realtime_app(router: Router, make_app: Callable[..., Any]) -> Callable[..., Any]:
    """``realtime_app(extra_plugins=())``: a WebTest app whose events reach the router."""

    def build(extra_plugins: tuple = ()) -> Any:
        return make_app(extra_plugins, **router.overrides)  # dotted names pass through as they are

    return build


class _ClientSession(ApplicationSession):
    def __init__(self, config: ComponentConfig, ticket: str, authid: str | None, joined: asyncio.Future) -> None:
        super().__init__(config)
        self.ticket = ticket
        self.wanted_authid = authid
        self.joined_future = joined
        self.disconnected = asyncio.get_running_loop().create_future()

    def onConnect(self) -> None:
        self.join(self.config.realm, authmethods=["ticket"], authid=self.wanted_authid)

    def onChallenge(self, challenge: Any) -> str:
        return self.ticket

    def onJoin(self, details: Any) -> None:
        self.joined_future.set_result(details)

    def onLeave(self, details: Any) -> None:
        if not self.joined_future.done():
            self.joined_future.set_exception(JoinRefused(details.reason, details.message))
        self.disconnect()

    def onDisconnect(self) -> None:
        if not self.joined_future.done():
            self.joined_future.set_exception(ConnectionError("the router closed the connection"))
        self.disconnected.set_result(None)


class Client:
    """A WAMP client that has joined the realm; every method blocks at most ``timeout`` seconds."""

    def __init__(self, router: Router, ticket: str, authid: str | None = None, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wamp-client", daemon=True)
        self._thread.start()
        try:
            self.details = self._run(self._join, router, ticket, authid)
        except BaseException:
            self.close()
            raise

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await fn(*args, **kwargs)`` on the client's loop, from the test's thread."""

        async def run() -> Any:
            return await fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(self.timeout)

    async def _join(self, router: Router, ticket: str, authid: str | None) -> Any:
        joined = self._loop.create_future()
        factory = WampWebSocketClientFactory(
            lambda: self._new_session(ComponentConfig(router.config.realm), ticket, authid, joined),
            url=router.config.websocket_url,
        )
        self._transport, _ = await self._loop.create_connection(factory, router.config.host, router.config.port)
        return await joined

    def _new_session(self, *args: Any) -> _ClientSession:
        self.session = _ClientSession(*args)
        return self.session

    async def _drop(self) -> None:
        if not self.session.disconnected.done():
            self._transport.close()
            await self.session.disconnected

    def call(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        """Call a procedure and return its result (an ``ApplicationError`` raises)."""
        return self._run(self.session.call, uri, *args, **kwargs)

    def publish(self, uri: str, *args: Any, **kwargs: Any) -> None:
        """Publish with acknowledgement, so a denial raises ApplicationError."""
        self._run(self.session.publish, uri, *args, options=PublishOptions(acknowledge=True), **kwargs)

    def subscribe(self, uri: str, match: str = "exact") -> queue.Queue[tuple[tuple, dict]]:
        """Subscribe; events arrive in the returned queue as ``(args, kwargs)``."""
        events: queue.Queue = queue.Queue()
        self._run(
            self.session.subscribe, lambda *a, **kw: events.put((a, kw)), uri, options=SubscribeOptions(match=match)
        )
        return events

    def register(self, uri: str, fn: Callable[..., Any]) -> None:
        """Register ``fn`` as the procedure ``uri``."""
        self._run(self.session.register, fn, uri)

    def close(self) -> None:
        """Drop the connection (as a crashing client would) and wait until it is gone."""
        if self._loop.is_closed():
            return
        if getattr(self, "session", None) is not None:
            self._run(self._drop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.timeout)
        self._loop.close()


@pytest.fixture
def wamp_client(router: Router) -> Iterator[Callable[..., Client]]:
    """``wamp_client(ticket, authid=None)``: a real WAMP client joined to the router (closed after the test)."""
    clients: list[Client] = []

    def connect(ticket: str, authid: str | None = None) -> Client:
        clients.append(Client(router, ticket, authid))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def ticket(login: Callable[[Any], dict[str, str]]) -> Callable[[Any], str]:
    """``ticket(user)``: a WAMP ticket for ``user`` (the access token of a fresh login)."""
    return lambda user: login(user)["Authorization"].removeprefix("Bearer ")
