"""The plugin ``demo``: what a plugin author writes to use real time.

A REST view that publishes, procedures for users and for its own principals
(``gadget``), an authorizer, and session event handlers; the fixtures run it
in an app and in the backend session.
"""

from __future__ import annotations

import asyncio
import queue
from decimal import Decimal
from typing import Any

import pytest
from autobahn.wamp.exception import ApplicationError

from pyramidion import hookimpl
from pyramidion.api import Conflict
from pyramidion.realtime import Caller, Principal, owned_uri, user_topic

GADGET_TICKETS = {"gadget-ticket-7": 7, "gadget-ticket-8": 8}


class Demo:
    """A plugin with a bit of everything the backend session offers."""

    def __init__(self) -> None:
        self.joined: queue.Queue[Caller] = queue.Queue()
        self.left: queue.Queue[Caller] = queue.Queue()
        self.backend_joins: queue.Queue[list[Caller]] = queue.Queue()
        self.watches: queue.Queue[list[tuple[str, str]]] = queue.Queue()
        self.watchers: dict[int, set[int]] = {7: set()}  # gadget id -> user ids who may watch it

    @hookimpl
    def pyramidion_includeme(self, config: Any) -> None:
        config.add_route("demo.ping", "/ping")
        config.add_api_view(self.ping, "demo.ping", request_method="POST")

    def ping(self, request: Any) -> dict[str, Any]:
        user = request.identity.user
        note = request.params.get("note", "")
        request.realtime.publish(user_topic("demo", user.id, "pong"), note, amount=Decimal("12.50"))
        if request.params.get("fail"):
            raise Conflict("the transaction rolls back, and the event with it")
        return {"published": note}

    @hookimpl
    def pyramidion_realtime(self, session: Any) -> None:
        session.register_procedure("pyramidion.demo.whoami", self.whoami)
        session.register_procedure("pyramidion.demo.report", self.report, roles=("gadget",))
        session.register_async_procedure("pyramidion.demo.count", self.count, roles=("gadget",))
        session.add_authenticator(self.gadget_principal, role="gadget")
        session.add_authorizer(self.may_watch)
        session.on_session_join(lambda request, caller: self.joined.put(caller))
        session.on_session_leave(lambda request, caller: self.left.put(caller))
        session.on_backend_join(lambda request, connected: self.backend_joins.put(connected))
        session.on_watch(lambda request, subscriptions: self.watches.put(subscriptions))

    def whoami(self, request: Any, caller: Caller) -> dict[str, Any]:
        return {"authid": caller.authid, "user_id": caller.user_id}

    def report(self, request: Any, caller: Caller, reading: Any) -> str:
        if not isinstance(reading, int):
            raise ApplicationError("pyramidion.demo.invalid_reading", "a reading is an integer")
        return f"gadget {caller.id} read {reading}"

    async def count(self, caller: Caller, *readings: Any) -> dict[str, Any]:
        if not all(isinstance(reading, int) for reading in readings):
            raise ApplicationError("pyramidion.demo.invalid_reading", "a reading is an integer")
        if not readings:
            raise RuntimeError("a bug in the plugin")
        await asyncio.sleep(0)  # on the backend's event loop: it may await
        return {"gadget": caller.id, "readings": len(readings), "total": Decimal(sum(readings))}

    def gadget_principal(self, request: Any, ticket: str) -> Principal | None:
        gadget_id = GADGET_TICKETS.get(ticket)
        return None if gadget_id is None else Principal("gadget", gadget_id)

    def may_watch(self, request: Any, caller: Caller, uri: str, action: str) -> bool | None:
        # Users may watch the status of the gadgets shared with them.
        for gadget_id, users in self.watchers.items():
            if uri == owned_uri("demo", "gadget", gadget_id, "status") and action == "subscribe":
                return caller.user_id in users
        return None


@pytest.fixture
def demo() -> Demo:
    return Demo()


@pytest.fixture
def backend(start_backend: Any, demo: Demo) -> Any:
    return start_backend(extra_plugins=[("demo", demo)])
