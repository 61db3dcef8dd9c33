"""The backend session: the platform's own, trusted client of the router.

``pyramidion realtime`` runs one per router. It joins with the role
``backend`` (WAMP-CRA with ``realtime.secret``) and serves:

* ``pyramidion.realtime.authenticate``, the router's dynamic authenticator:
  a client's ticket is a user's JWT access token, or whatever a plugin's
  authenticator accepts (a robot's token);
* ``pyramidion.realtime.authorize``, the dynamic authorizer of every client
  role: a client may call the procedures declared for its role, subscribe and
  publish on the URIs it owns, and whatever a plugin's authorizer allows;
* the procedures and subscriptions plugins declare through the
  ``pyramidion_realtime(session)`` hook, which gets a :class:`BackendSession`;
* the router's ``wamp.session.on_join`` / ``on_leave`` meta events, handed to
  plugins as :class:`Caller` objects;
* the router's ``wamp.subscription.on_create`` / ``on_delete`` meta events,
  kept as the topics somebody is subscribed to (:meth:`BackendSession.watched`),
  so that a plugin publishes only what somebody receives.

Plugin callbacks are plain synchronous functions taking a request first, like
background tasks: each runs in a thread of its own (the event loop never waits
on the database) inside a transaction that commits when it returns. A procedure
on a hot path may instead be a coroutine function that runs on the event loop
itself, with no request and no transaction
(:meth:`BackendSession.register_async_procedure`).

The session reconnects, with a growing delay, whenever the router goes away,
and declares everything again when it is back.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import functools
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallDetails, ComponentConfig, EventDetails, RegisterOptions, SubscribeOptions
from pydantic_core import to_jsonable_python

from ..auth.policy import user_for_access_token
from ..auth.service import SESSIONS_REVOKED_TOPIC
from ..db import in_request_transaction
from ..request import Request
from .settings import RealtimeSettings, realtime_settings
from .tickets import user_for_ticket
from .uris import AUTHENTICATE, AUTHORIZE, BACKEND_ROLE, PUBLISHER_ROLE, USER_ROLE, owner_of

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.5, 1, 2)  # seconds between attempts; the last one repeats
INVALID_TICKET = "pyramidion.error.invalid_ticket"
INTERNAL_ERROR = "pyramidion.error.internal"


@dataclasses.dataclass(frozen=True)
class Principal:
    """Whom a ticket belongs to, as an authenticator answers.

    ``extra`` reaches the client in its welcome (``details.authextra``).
    """

    role: str
    id: str | int
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def authid(self) -> str:
        return f"{self.role}:{self.id}"


@dataclasses.dataclass(frozen=True)
class Caller:
    """A client session as the backend sees it: WAMP session id, role, authid ``<role>:<id>``."""

    session: int
    role: str
    authid: str

    @property
    def id(self) -> str:
        """The principal's id in its role: a user id, a robot id."""
        return self.authid.partition(":")[2]

    @property
    def user_id(self) -> int | None:
        return int(self.id) if self.role == USER_ROLE else None

    def owns(self, uri: str) -> bool:
        return owner_of(uri) == (self.role, self.id)

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> Caller:
        """From the session details the router sends (authorizer, meta events)."""
        return cls(session=details["session"], role=details["authrole"], authid=details["authid"])


Authenticator = Callable[[Any, str], "Principal | None"]
Authorizer = Callable[[Any, Caller, str, str], "bool | None"]


@dataclasses.dataclass(frozen=True)
class Procedure:
    uri: str
    fn: Callable[..., Any]
    roles: frozenset[str]
    on_loop: bool = False  # a coroutine function awaited on the event loop, without request or transaction


@dataclasses.dataclass(frozen=True)
class Subscription:
    uri: str
    fn: Callable[..., Any]
    match: str


def authenticate_user(request: Request, ticket: str) -> Principal | None:
    """A user's JWT access token, or a console page's ticket (:mod:`.tickets`): valid
    signature and expiry, active user, session not revoked."""
    user = user_for_access_token(request, ticket) or user_for_ticket(request, ticket)
    if user is None:
        return None
    return Principal(USER_ROLE, user.id, {"username": user.username})


class BackendSession:
    """What the ``pyramidion_realtime(session)`` hook gets: declare here, served on every join.

    Every callback is ``fn(request, ...)``, run in a thread inside a
    transaction. ``request.realtime.publish`` in a callback publishes after
    that transaction commits. The exception: procedures declared with
    :meth:`register_async_procedure`, awaited on the event loop as
    ``fn(caller, ...)``.
    """

    def __init__(self, registry: Any, config: RealtimeSettings | None = None) -> None:
        self.registry = registry
        self.config = config or realtime_settings(registry.settings)
        self.roles: set[str] = {USER_ROLE}
        self._authenticators: list[Authenticator] = [authenticate_user]
        self._authorizers: list[Authorizer] = []
        self._procedures: dict[str, Procedure] = {}
        self._subscriptions: list[Subscription] = []
        self._on_join: list[Callable[[Any, Caller], None]] = []
        self._on_leave: list[Callable[[Any, Caller], None]] = []
        self._on_backend_join: list[Callable[[Any, list[Caller]], None]] = []
        self._clients: dict[int, Caller] = {}  # connected client sessions, by WAMP session id
        self._on_watch: list[Callable[[Any, list[tuple[str, str]]], None]] = []
        # The router's subscriptions (of any session, this one's too), from its meta events:
        self._watches: dict[int, tuple[str, str]] = {}  # subscription id -> (topic URI, match)
        # Read from any thread without a lock: a Counter is only ever looked up there, the
        # patterns' tuple is replaced whole.
        self._watched_exact: collections.Counter[str] = collections.Counter()
        self._watched_patterns: tuple[tuple[str, str], ...] = ()  # (URI, "prefix" or "wildcard")
        self._deleted_while_listing: set[int] | None = None
        self._wamp: ApplicationSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        # Set while joined; a threading.Event so that other threads (tests, the CLI) can wait on it.
        self.joined = threading.Event()

    # -- what plugins declare ----------------------------------------------------

    def register_procedure(self, uri: str, fn: Callable[..., Any], roles: Iterable[str] = (USER_ROLE,)) -> None:
        """Serve ``fn(request, caller, *args, **kwargs)`` at ``uri`` to clients of ``roles``.

        The return value goes back to the caller as JSON; raise
        :class:`autobahn.wamp.exception.ApplicationError` for an error the client
        should see (the transaction rolls back). Any other exception is logged
        and the client gets ``pyramidion.error.internal``.
        """
        if inspect.iscoroutinefunction(fn):
            raise TypeError(f"{fn.__qualname__} is a coroutine function: declare it with register_async_procedure")
        self._declare(Procedure(uri, fn, frozenset(roles)))

    def register_async_procedure(
        self, uri: str, fn: Callable[..., Awaitable[Any]], roles: Iterable[str] = (USER_ROLE,)
    ) -> None:
        """Serve ``await fn(caller, *args, **kwargs)`` at ``uri``, on the backend's event loop.

        For procedures called thousands of times a second: no thread, no
        request, no transaction. ``fn`` must never block the loop; database
        work goes to a thread of its own (run it with ``asyncio.to_thread``,
        or hand it to a writer thread and await an ``asyncio`` future it
        resolves). Results and errors go back as with :meth:`register_procedure`.
        """
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"{fn.__qualname__} is not a coroutine function: declare it with register_procedure")
        self._declare(Procedure(uri, fn, frozenset(roles), on_loop=True))

    def _declare(self, procedure: Procedure) -> None:
        if procedure.uri in self._procedures:
            raise ValueError(f"procedure {procedure.uri} is declared twice")
        self._procedures[procedure.uri] = procedure

    def subscribe_topic(self, uri: str, fn: Callable[..., Any], match: str = "exact") -> None:
        """Call ``fn(request, publisher, *args, **kwargs)`` on each event of ``uri``.

        ``match`` is ``exact``, ``prefix`` or ``wildcard``
        (``pyramidion.robots.robot..data`` is every robot's data);
        ``publisher`` is the publishing client's :class:`Caller`, or None when
        the event came from the platform itself.
        """
        self._subscriptions.append(Subscription(uri, fn, match))

    def add_authenticator(self, fn: Authenticator, role: str) -> None:
        """Accept tickets of the plugin's own principals, who join as ``role``.

        ``fn(request, ticket)`` returns a :class:`Principal` of that role, or
        None when the ticket is not one of its own (the next authenticator is
        asked; a ticket nobody accepts is refused). The role becomes a role of
        the realm at the next ``pyramidion router start``.
        """
        if role in (BACKEND_ROLE, "publisher", "trusted"):
            raise ValueError(f"role {role!r} is reserved for the platform")
        self.roles.add(role)
        self._authenticators.append(functools.partial(_checked_role, fn, role))

    def add_authorizer(self, fn: Authorizer) -> None:
        """Decide actions the built-in rules do not allow.

        ``fn(request, caller, uri, action)`` with action ``call``, ``register``,
        ``publish`` or ``subscribe`` returns True (allow), False (deny) or None
        (no opinion: the next authorizer is asked, and nobody allowing means
        denied). It is asked on every action: keep it to a quick query.
        """
        self._authorizers.append(fn)

    def on_session_join(self, fn: Callable[[Any, Caller], None]) -> None:
        """Call ``fn(request, caller)`` when a client joins (and, on each join
        of the backend, for every client already connected)."""
        self._on_join.append(fn)

    def on_session_leave(self, fn: Callable[[Any, Caller], None]) -> None:
        """Call ``fn(request, caller)`` when a client leaves or its connection drops."""
        self._on_leave.append(fn)

    def on_backend_join(self, fn: Callable[[Any, list[Caller]], None]) -> None:
        """Call ``fn(request, connected)`` each time the backend (re)joins the router.

        ``connected`` lists every client connected at that moment: whoever is
        not in it left while the backend was away (or the router restarted),
        so this is where state kept from join and leave events is corrected.
        """
        self._on_backend_join.append(fn)

    def on_watch(self, fn: Callable[[Any, list[tuple[str, str]]], None]) -> None:
        """Call ``fn(request, subscriptions)`` when topics start being watched.

        ``subscriptions`` lists ``(uri, match)`` of the router's new
        subscriptions (``match`` is ``exact``, ``prefix`` or ``wildcard``):
        the first subscriber of a topic, or, when the backend (re)joins, every
        subscription there is. The router tells the backend a moment after
        the subscriber got its subscription: what a plugin held back while
        :meth:`watched` said no (a robot's newest state) is published here, so
        that the new subscriber misses nothing.
        """
        self._on_watch.append(fn)

    def watched(self, topic: str) -> bool:
        """Whether some session (the backend's own included) is subscribed to ``topic``; from any thread.

        Answered from memory, without a round trip: the router's subscription
        meta events, and its list of subscriptions when the backend joins. For
        publications nobody may be receiving (a robot's status, many times a
        second): skip those that would reach nobody, and publish what matters
        from an :meth:`on_watch` handler. False while the backend is not
        joined. A wildcard subscription made while the backend was away is
        seen only once it is made again (the router does not list wildcard
        subscriptions).
        """
        if topic in self._watched_exact:
            return True
        return any(_matches(topic, uri, match) for uri, match in self._watched_patterns)

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> bool:
        """Publish now over the backend's own connection; from any thread.

        False when the backend is not connected. In a callback,
        ``request.realtime.publish`` waits for the transaction to commit.
        """
        wamp, loop = self._wamp, self._loop
        if wamp is None or loop is None:
            log.warning("could not publish to %s: the backend is not connected", topic)
            return False
        args, kwargs = to_jsonable_python(args), to_jsonable_python(kwargs)
        loop.call_soon_threadsafe(functools.partial(wamp.publish, topic, *args, **kwargs))
        return True

    def end_sessions(self, authid: str, reason: str) -> bool:
        """End every WAMP session of ``authid`` (``robot:7``) on the router; from any thread.

        For when what let a principal in goes away (a robot deleted): its open
        sessions must not outlive it. False when the backend is not connected.
        """
        return self._soon(self._kill(authid, reason, "pyramidion.close.access_ended"))

    def unsubscribe(self, uri: str, authid: str, reason: str = "") -> bool:
        """Drop ``authid``'s sessions from the subscribers of the topic ``uri`` (exact); from any thread.

        For when a right to read goes away (a robot unshared): its watchers'
        subscriptions end, the rest of their session stays. False when the
        backend is not connected.
        """
        return self._soon(self._remove_subscriber(uri, authid, reason))

    def _soon(self, work: Awaitable[Any]) -> bool:
        wamp, loop = self._wamp, self._loop
        if wamp is None or loop is None:
            log.warning("the backend is not connected: %s not done", getattr(work, "__qualname__", work))
            if inspect.iscoroutine(work):
                work.close()
            return False
        asyncio.run_coroutine_threadsafe(self._logged(work), loop)
        return True

    @staticmethod
    async def _logged(work: Awaitable[Any]) -> None:
        try:
            await work
        except Exception:
            log.exception("the router refused a request of the backend")

    async def _kill(self, authid: str, reason: str, close_uri: str) -> int:
        wamp = self._wamp
        if wamp is None:
            return 0
        killed = await wamp.call("wamp.session.kill_by_authid", authid, reason=close_uri, message=reason)
        if killed:
            log.info("ended %d WAMP session(s) of %s: %s", len(killed), authid, reason)
        return len(killed or ())

    async def _remove_subscriber(self, uri: str, authid: str, reason: str) -> int:
        wamp = self._wamp
        if wamp is None:
            return 0
        subscription = await wamp.call("wamp.subscription.lookup", uri)
        if subscription is None:
            return 0
        removed = 0
        for session_id in await wamp.call("wamp.subscription.list_subscribers", subscription):
            caller = self._clients.get(session_id)
            if caller is not None and caller.authid == authid:
                await wamp.call("wamp.subscription.remove_subscriber", subscription, session_id, reason=reason or None)
                removed += 1
        if removed:
            log.info("removed %s from %d subscription(s) of %s: %s", authid, removed, uri, reason)
        return removed

    @property
    def clients(self) -> list[Caller]:
        """The client sessions connected now, as far as the backend knows."""
        return list(self._clients.values())

    # -- running -----------------------------------------------------------------

    async def run(self) -> None:
        """Stay joined to the router until cancelled, reconnecting when it goes away."""
        self._loop = asyncio.get_running_loop()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self.config.backend_threads, thread_name_prefix="realtime"
        )
        attempt = 0
        try:
            while True:
                joined_before, why = await self._connect_once()
                attempt = 0 if joined_before else attempt + 1
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                # One line per attempt, no traceback: the router restarting is an ordinary event.
                log.warning("%s; trying again in %s s", why, delay)
                await asyncio.sleep(delay)
        finally:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False, cancel_futures=True)

    async def _connect_once(self) -> tuple[bool, str]:
        """One connection, until it is lost: whether the session had joined, and why it ended."""
        loop = asyncio.get_running_loop()
        lost = loop.create_future()
        url = self.config.websocket_url
        factory = WampWebSocketClientFactory(
            lambda: _Connection(ComponentConfig(self.config.realm), self, lost), url=url
        )
        try:
            transport, _ = await loop.create_connection(factory, self.config.host, self.config.port)
        except OSError as exc:
            return False, f"backend cannot reach the router at {url}: {exc.strerror or exc}"
        try:
            joined, refusal = await lost
        finally:
            transport.close()
            self._detach()
        if joined:
            return True, f"backend lost the router at {url}"
        return False, f"backend not joined at {url}: {refusal or 'the connection closed'}"

    async def _attach(self, wamp: ApplicationSession) -> None:
        """Declare everything on a freshly joined session."""
        await wamp.register(self._authenticate, AUTHENTICATE)
        await wamp.register(self._authorize, AUTHORIZE)
        for procedure in self._procedures.values():
            await wamp.register(
                functools.partial(self._call, procedure), procedure.uri, options=RegisterOptions(details=True)
            )
        for subscription in self._subscriptions:
            await wamp.subscribe(
                functools.partial(self._event, subscription),
                subscription.uri,
                options=SubscribeOptions(match=subscription.match, details=True),
            )
        await wamp.subscribe(self._sessions_revoked, SESSIONS_REVOKED_TOPIC, options=SubscribeOptions(details=True))
        await wamp.subscribe(self._session_joined, "wamp.session.on_join")
        await wamp.subscribe(self._session_left, "wamp.session.on_leave")
        await wamp.subscribe(self._subscription_created, "wamp.subscription.on_create")
        await wamp.subscribe(self._subscription_deleted, "wamp.subscription.on_delete")
        self._wamp = wamp
        watched = await self._list_subscriptions(wamp)
        connected = []
        for session_id in await wamp.call("wamp.session.list"):
            caller = self._client(await wamp.call("wamp.session.get", session_id))
            if caller is not None:
                connected.append(caller)
        self._clients = {caller.session: caller for caller in connected}
        for fn in self._on_backend_join:
            await self._in_thread(fn, connected)
        for caller in connected:
            await self._notify(self._on_join, caller)
        await self._notify_watch(watched)
        self.joined.set()
        log.info(
            "backend joined realm %s: %d procedure(s), %d subscription(s), %d client(s) connected",
            self.config.realm,
            len(self._procedures),
            len(self._subscriptions),
            len(connected),
        )

    def _detach(self) -> None:
        self._wamp = None
        self.joined.clear()
        # Listed again on the next join; meanwhile, publications would not leave anyway.
        self._watches.clear()
        self._watched_exact.clear()
        self._watched_patterns = ()

    async def _list_subscriptions(self, wamp: ApplicationSession) -> list[tuple[str, str]]:
        """Learn the router's subscriptions (the meta events keep them up to date from here on)."""
        deleted: set[int] = set()
        self._deleted_while_listing = deleted
        try:
            listed = await wamp.call("wamp.subscription.list")
            ids = [sid for match in ("exact", "prefix", "wildcard") for sid in listed.get(match, ())]
            found = await asyncio.gather(*(self._subscription(wamp, sid) for sid in ids if sid not in self._watches))
        finally:
            self._deleted_while_listing = None
        # Gone meanwhile (its on_delete came before the answer): it must not come back.
        added = [self._add_watch(s) for s in found if s is not None and s["id"] not in deleted]
        return [watch for watch in added if watch is not None]

    @staticmethod
    async def _subscription(wamp: ApplicationSession, subscription_id: int) -> dict[str, Any] | None:
        try:
            return await wamp.call("wamp.subscription.get", subscription_id)
        except ApplicationError:  # deleted since the list
            return None

    async def _subscription_created(self, session_id: int, subscription: dict[str, Any], *_: Any) -> None:
        watch = self._add_watch(subscription)
        if watch is not None:
            await self._notify_watch([watch])

    async def _subscription_deleted(self, session_id: int, subscription_id: int, *_: Any) -> None:
        if self._deleted_while_listing is not None:
            self._deleted_while_listing.add(subscription_id)
        known = self._watches.pop(subscription_id, None)
        if known is None:
            return
        uri, match = known
        if match == "exact":
            self._watched_exact[uri] -= 1
            if self._watched_exact[uri] <= 0:
                del self._watched_exact[uri]
        else:
            self._watched_patterns = tuple(pattern for pattern in self._watched_patterns if pattern != known)

    def _add_watch(self, subscription: dict[str, Any]) -> tuple[str, str] | None:
        """Keep a subscription of the router's (its details); its ``(uri, match)``, or None when known already."""
        subscription_id, watch = subscription["id"], (subscription["uri"], subscription.get("match", "exact"))
        if subscription_id in self._watches:
            return None
        self._watches[subscription_id] = watch
        if watch[1] == "exact":
            self._watched_exact[watch[0]] += 1
        else:
            self._watched_patterns = (*self._watched_patterns, watch)
        return watch

    async def _notify_watch(self, subscriptions: list[tuple[str, str]]) -> None:
        if not subscriptions:
            return
        for fn in self._on_watch:
            try:
                await self._in_thread(fn, subscriptions)
            except Exception:
                log.exception("watch handler %s failed", fn.__qualname__)

    # -- serving -----------------------------------------------------------------

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(request, *args, **kwargs)`` in a worker thread, in a transaction."""
        if self._executor is None:
            # Stopping: messages that arrived before the connection closed are dropped.
            raise asyncio.CancelledError()
        work = functools.partial(in_request_transaction(self.registry, fn), *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def _authenticate(self, realm: str, authid: str | None, details: dict[str, Any]) -> dict[str, Any]:
        principal = await self._in_thread(self._principal, details.get("ticket") or "")
        if principal is None:
            raise ApplicationError(INVALID_TICKET, "the ticket is invalid, expired or revoked")
        return {"authid": principal.authid, "role": principal.role, "extra": principal.extra}

    def _principal(self, request: Request, ticket: str) -> Principal | None:
        for authenticate in self._authenticators:
            principal = authenticate(request, ticket)
            if principal is not None:
                return principal
        return None

    async def _authorize(
        self, session: dict[str, Any], uri: str, action: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        caller = Caller.from_details(session)
        # Disclosed: procedures and subscribers learn who is calling.
        if self._declared_for_role(caller, uri, action):
            # Depends on role and URI alone, which is what Crossbar caches by
            # (realm, role, URI, action): later calls skip this round trip.
            return {"allow": True, "disclose": True, "cache": True}
        allowed = self._allowed_by_ownership(caller, uri, action, options or {})
        if not allowed and self._authorizers:
            allowed = bool(await self._in_thread(self._allowed_by_plugins, caller, uri, action))
        if not allowed:
            log.info("denied %s %s to %s", action, uri, caller.authid)
        # Not cached: these answers depend on who the caller is, or on the database.
        return {"allow": allowed, "disclose": True, "cache": False}

    def _declared_for_role(self, caller: Caller, uri: str, action: str) -> bool:
        procedure = self._procedures.get(uri)
        return action == "call" and procedure is not None and caller.role in procedure.roles

    def _allowed_by_ownership(self, caller: Caller, uri: str, action: str, options: dict[str, Any]) -> bool:
        if action in ("subscribe", "publish"):
            # Exact URIs only: a prefix or wildcard could reach other principals' URIs.
            return options.get("match", "exact") == "exact" and caller.owns(uri)
        return False

    def _allowed_by_plugins(self, request: Request, caller: Caller, uri: str, action: str) -> bool:
        for authorize in self._authorizers:
            verdict = authorize(request, caller, uri, action)
            if verdict is not None:
                return verdict
        return False

    async def _call(self, procedure: Procedure, *args: Any, details: CallDetails, **kwargs: Any) -> Any:
        # Disclosed by the router (the authorizer answers disclose: True), so never None here.
        caller = Caller(details.caller, details.caller_authrole, details.caller_authid)  # type: ignore[arg-type]
        try:
            if procedure.on_loop:
                result = await procedure.fn(caller, *args, **kwargs)
            else:
                result = await self._in_thread(procedure.fn, caller, *args, **kwargs)
        except ApplicationError:
            raise
        except Exception:
            log.exception("procedure %s failed for %s", procedure.uri, caller.authid)
            raise ApplicationError(INTERNAL_ERROR, "the procedure failed; the platform logged why") from None
        return to_jsonable_python(result)

    async def _event(self, subscription: Subscription, *args: Any, details: EventDetails, **kwargs: Any) -> None:
        publisher = None
        if details.publisher is not None and details.publisher_authid is not None:
            publisher = Caller(details.publisher, details.publisher_authrole, details.publisher_authid)  # type: ignore[arg-type]
        try:
            await self._in_thread(subscription.fn, publisher, *args, **kwargs)
        except Exception:
            log.exception("handler of %s failed on an event of %s", subscription.uri, details.topic)

    async def _sessions_revoked(self, user_id: int, reason: str = "", *, details: EventDetails) -> None:
        """A user's logins ended (a password change, a deactivation): end their WAMP sessions too.

        Only the platform announces it (the HTTP bridge, whose publisher is not
        disclosed, or the backend); a client publishing here is ignored.
        """
        if details.publisher_authrole not in (None, PUBLISHER_ROLE, BACKEND_ROLE):
            log.warning("ignored a sessions_revoked event published by %s", details.publisher_authid)
            return
        await self._kill(f"{USER_ROLE}:{user_id}", reason or "sessions revoked", "pyramidion.close.sessions_revoked")

    def _client(self, details: dict[str, Any]) -> Caller | None:
        """A client session (not the platform's own ones) from session details."""
        if details.get("authrole") not in self.roles:
            return None
        return Caller.from_details(details)

    async def _session_joined(self, details: dict[str, Any]) -> None:
        caller = self._client(details)
        if caller is not None:
            self._clients[caller.session] = caller
            await self._notify(self._on_join, caller)

    async def _session_left(self, session_id: int, *_: Any) -> None:
        caller = self._clients.pop(session_id, None)
        if caller is not None:
            await self._notify(self._on_leave, caller)

    async def _notify(self, handlers: list[Callable[[Any, Caller], None]], caller: Caller) -> None:
        for fn in handlers:
            try:
                await self._in_thread(fn, caller)
            except Exception:
                log.exception("session handler %s failed for %s", fn.__qualname__, caller.authid)


def _matches(topic: str, uri: str, match: str) -> bool:
    """Whether a subscription to ``uri`` with ``match`` (``prefix`` or ``wildcard``) receives ``topic``."""
    if match == "prefix":
        return topic.startswith(uri)
    parts, pattern = topic.split("."), uri.split(".")
    # A wildcard's empty component matches any one component.
    return len(parts) == len(pattern) and all(p == "" or p == part for p, part in zip(pattern, parts, strict=True))


def _checked_role(fn: Authenticator, role: str, request: Request, ticket: str) -> Principal | None:
    principal = fn(request, ticket)
    if principal is not None and principal.role != role:
        raise ValueError(f"authenticator {fn.__qualname__} declared role {role!r} but answered {principal.role!r}")
    return principal


class _Connection(ApplicationSession):
    """One WAMP session of the backend, on one connection."""

    def __init__(self, config: ComponentConfig, backend: BackendSession, lost: asyncio.Future) -> None:
        super().__init__(config)
        self.backend = backend
        self.lost = lost  # set to (had joined, why the router refused the join) once disconnected
        self.had_joined = False
        self.refusal = ""

    def onConnect(self) -> None:
        self.join(self.config.realm, authmethods=["wampcra"], authid=BACKEND_ROLE)

    def onChallenge(self, challenge: Any) -> str:
        return auth.compute_wcs(self.backend.config.secret, challenge.extra["challenge"])

    async def onJoin(self, details: Any) -> None:
        try:
            await self.backend._attach(self)
        except Exception:
            log.exception("backend could not declare itself on the router; leaving to try again")
            self.leave()
            return
        self.had_joined = True

    def onLeave(self, details: Any) -> None:
        if not self.had_joined:
            self.refusal = f"{details.reason} {details.message or ''}".rstrip()
        self.backend._detach()
        self.disconnect()

    def onDisconnect(self) -> None:
        if not self.lost.done():
            self.lost.set_result((self.had_joined, self.refusal))
