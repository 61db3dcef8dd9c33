"""Real time end to end: a real Crossbar router, the backend session, real Autobahn clients.

The plugin ``demo`` below is what a plugin author writes: a REST view that
publishes, procedures for users and for its own principals (``gadget``), an
authorizer, and session event handlers.
"""

from __future__ import annotations

import queue
import uuid
from decimal import Decimal
from typing import Any

import pytest
import requests
from autobahn.wamp.exception import ApplicationError

from pyramidion import hookimpl
from pyramidion.api import Conflict
from pyramidion.auth.models import Session as AuthSession
from pyramidion.realtime import Caller, Principal, Publisher, owned_uri, realtime_settings, user_topic
from pyramidion.realtime.backend import INVALID_TICKET
from pyramidion.realtime.publisher import event_body, signed_query
from realtime_fixtures import TIMEOUT, JoinRefused

pytestmark = [pytest.mark.router, pytest.mark.slow]

GADGET_TICKETS = {"gadget-ticket-7": 7, "gadget-ticket-8": 8}


class Demo:
    """A plugin with a bit of everything the backend session offers."""

    def __init__(self) -> None:
        self.joined: queue.Queue[Caller] = queue.Queue()
        self.left: queue.Queue[Caller] = queue.Queue()
        self.backend_joins: queue.Queue[list[Caller]] = queue.Queue()
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
        session.add_authenticator(self.gadget_principal, role="gadget")
        session.add_authorizer(self.may_watch)
        session.on_session_join(lambda request, caller: self.joined.put(caller))
        session.on_session_leave(lambda request, caller: self.left.put(caller))
        session.on_backend_join(lambda request, connected: self.backend_joins.put(connected))

    def whoami(self, request: Any, caller: Caller) -> dict[str, Any]:
        return {"authid": caller.authid, "user_id": caller.user_id}

    def report(self, request: Any, caller: Caller, reading: Any) -> str:
        if not isinstance(reading, int):
            raise ApplicationError("pyramidion.demo.invalid_reading", "a reading is an integer")
        return f"gadget {caller.id} read {reading}"

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


@pytest.fixture
def ticket(registry: Any, db: Any, make_user: Any) -> Any:
    """``ticket(user)``: an access token for a fresh login of ``user``."""

    def make(user: Any) -> str:
        session = AuthSession(id=uuid.uuid4().hex, user_id=user.id)
        db.add(session)
        db.commit()
        return registry.token_codec.access_token(user.id, session.id)

    return make


def test_a_user_receives_the_event_a_rest_call_caused(backend, demo, realtime_app, make_user, login, ticket, wamp_client):
    app = realtime_app(extra_plugins=[("demo", demo)])
    alice = make_user("alice")
    client = wamp_client(ticket(alice))
    events = client.subscribe(user_topic("demo", alice.id, "pong"))

    app.post("/api/demo/ping?note=first&fail=1", headers=login(alice), status=409)
    app.post("/api/demo/ping?note=second", headers=login(alice), status=200)

    # The rolled-back request published nothing: the first event is the second call's.
    args, kwargs = events.get(timeout=TIMEOUT)
    assert args == ("second",)
    assert kwargs == {"amount": "12.50"}


def test_a_user_joins_as_themselves_and_procedures_know_the_caller(backend, make_user, ticket, wamp_client):
    alice = make_user("alice")
    client = wamp_client(ticket(alice), authid="someone-else")

    assert client.details.authrole == "user"
    assert client.details.authid == f"user:{alice.id}"  # the ticket decides, not the client
    assert client.details.authextra["username"] == "alice"
    assert client.call("pyramidion.demo.whoami") == {"authid": f"user:{alice.id}", "user_id": alice.id}


@pytest.mark.parametrize("problem", ["garbage", "expired", "revoked", "inactive"])
def test_a_bad_ticket_is_refused(problem, backend, registry, db, make_user, ticket, wamp_client):
    alice = make_user("alice", active=problem != "inactive")
    token = ticket(alice)
    if problem == "garbage":
        token = "not-a-token"
    elif problem == "expired":
        token = registry.token_codec.encode(str(alice.id), "access", ttl=-3600, sid=uuid.uuid4().hex)
    elif problem == "revoked":
        for session in db.query(AuthSession).filter_by(user_id=alice.id):
            session.revoked_at = session.created_at
        db.commit()

    with pytest.raises(JoinRefused) as refused:
        wamp_client(token)
    assert refused.value.reason == INVALID_TICKET


def test_a_user_may_use_only_what_belongs_to_them(backend, make_user, ticket, wamp_client):
    alice, bob = make_user("alice"), make_user("bob")
    client = wamp_client(ticket(alice))
    own = user_topic("demo", alice.id, "pong")

    client.subscribe(own)
    client.publish(own, "note to self")

    denied = {
        "subscribe to another user's topic": lambda: client.subscribe(user_topic("demo", bob.id, "pong")),
        "subscribe by prefix": lambda: client.subscribe(f"pyramidion.demo.user.{alice.id}", match="prefix"),
        "subscribe by wildcard": lambda: client.subscribe("pyramidion.demo.user..pong", match="wildcard"),
        "publish to another user": lambda: client.publish(user_topic("demo", bob.id, "pong"), "spoof"),
        "register a procedure": lambda: client.register(own, lambda: None),
        "call another role's procedure": lambda: client.call("pyramidion.demo.report", 1),
        "call the authenticator": lambda: client.call("pyramidion.realtime.authenticate", "pyramidion", None, {}),
        "call a meta procedure": lambda: client.call("wamp.session.list"),
    }
    for action, attempt in denied.items():
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert error.value.error == "wamp.error.not_authorized", action


def test_a_plugin_authenticates_and_authorizes_its_own_principals(backend, demo, make_user, ticket, wamp_client):
    alice, bob = make_user("alice"), make_user("bob")
    demo.watchers[7].add(alice.id)
    gadget = wamp_client("gadget-ticket-7")
    assert (gadget.details.authrole, gadget.details.authid) == ("gadget", "gadget:7")

    commands = gadget.subscribe(owned_uri("demo", "gadget", 7, "command"))
    assert gadget.call("pyramidion.demo.report", 42) == "gadget 7 read 42"
    with pytest.raises(ApplicationError) as error:
        gadget.call("pyramidion.demo.report", "forty-two")
    assert error.value.error == "pyramidion.demo.invalid_reading"
    assert gadget.call("pyramidion.demo.report", 43) == "gadget 7 read 43"  # still connected
    for forbidden in (lambda: gadget.call("pyramidion.demo.whoami"), lambda: gadget.subscribe(owned_uri("demo", "gadget", 8, "command"))):
        with pytest.raises(ApplicationError):
            forbidden()

    status = owned_uri("demo", "gadget", 7, "status")
    wamp_client(ticket(alice)).subscribe(status)  # shared with alice
    with pytest.raises(ApplicationError):
        wamp_client(ticket(bob)).subscribe(status)
    with pytest.raises(ApplicationError):
        wamp_client(ticket(alice)).subscribe(owned_uri("demo", "gadget", 7, "command"))

    backend.session.publish(owned_uri("demo", "gadget", 7, "command"), "idle")
    assert commands.get(timeout=TIMEOUT) == (("idle",), {})


def test_plugins_hear_clients_join_and_leave(backend, demo, make_user, ticket, wamp_client):
    assert demo.backend_joins.get(timeout=TIMEOUT) == []
    alice = make_user("alice")
    client = wamp_client(ticket(alice))

    joined = demo.joined.get(timeout=TIMEOUT)
    assert (joined.role, joined.user_id, joined.session) == ("user", alice.id, client.details.session)
    client.close()
    assert demo.left.get(timeout=TIMEOUT) == joined


def test_the_backend_comes_back_after_a_router_restart(backend, demo, router, make_user, ticket, wamp_client):
    alice = make_user("alice")
    demo.backend_joins.get(timeout=TIMEOUT)
    wamp_client("gadget-ticket-8")

    router.restart()

    # Rejoined with nobody connected: the gadget's session died with the router.
    assert demo.backend_joins.get(timeout=TIMEOUT) == []
    assert wamp_client(ticket(alice)).call("pyramidion.demo.whoami")["user_id"] == alice.id


def test_the_publisher_bridge_takes_signed_requests_only(backend, router, make_user, ticket, wamp_client, registry):
    alice = make_user("alice")
    topic = user_topic("demo", alice.id, "pong")
    events = wamp_client(ticket(alice)).subscribe(topic)
    bridge = f"{router.config.base_url}/publish"

    unsigned = requests.post(bridge, json={"topic": topic, "args": ["unsigned"]}, timeout=TIMEOUT)
    body = event_body(topic, ("forged",), {})
    forged = requests.post(bridge, params=signed_query("a guessed secret", body, 1), data=body, timeout=TIMEOUT)
    assert (unsigned.status_code, forged.status_code) == (400, 401)

    publisher = Publisher(realtime_settings({**registry.settings, **router.overrides}))
    assert publisher.publish(topic, "signed")
    assert events.get(timeout=TIMEOUT) == (("signed",), {})
