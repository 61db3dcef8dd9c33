"""Real time end to end: a real Crossbar router, the backend session, real Autobahn clients.

The plugin ``demo`` (in ``conftest.py``) plays the part of any plugin.
"""

from __future__ import annotations

import queue
import uuid

import pytest
import requests
from autobahn.wamp.exception import ApplicationError

from pyramidion.auth.models import Session as AuthSession
from pyramidion.realtime import BackendSession, Caller, Publisher, owned_uri, realtime_settings, user_topic
from pyramidion.realtime.backend import INTERNAL_ERROR, INVALID_TICKET
from pyramidion.realtime.publisher import event_body, signed_query
from pyramidion.testing import TIMEOUT, JoinRefused

pytestmark = [pytest.mark.router, pytest.mark.slow]


def test_a_user_receives_the_event_a_rest_call_caused(
    backend, demo, realtime_app, make_user, login, ticket, wamp_client
):
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
    for forbidden in (
        lambda: gadget.call("pyramidion.demo.whoami"),
        lambda: gadget.subscribe(owned_uri("demo", "gadget", 8, "command")),
    ):
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


def test_an_async_procedure_answers_from_the_event_loop(backend, make_user, ticket, wamp_client):
    gadget = wamp_client("gadget-ticket-7")

    assert gadget.call("pyramidion.demo.count", 2, 3) == {"gadget": "7", "readings": 2, "total": "5"}
    with pytest.raises(ApplicationError) as error:
        gadget.call("pyramidion.demo.count", "two")
    assert error.value.error == "pyramidion.demo.invalid_reading"
    with pytest.raises(ApplicationError) as error:
        gadget.call("pyramidion.demo.count")  # the procedure fails: the client learns nothing of why
    assert error.value.error == INTERNAL_ERROR
    assert gadget.call("pyramidion.demo.count", 1) == {"gadget": "7", "readings": 1, "total": "1"}  # still connected


def test_a_procedure_allowed_to_one_role_stays_closed_to_the_others(backend, make_user, ticket, wamp_client):
    user = wamp_client(ticket(make_user("alice")))
    with pytest.raises(ApplicationError) as error:
        user.call("pyramidion.demo.count", 1)  # refused before any gadget called it
    assert error.value.error == "wamp.error.not_authorized"

    # The router now keeps "gadgets may call it" (it depends on the role alone)...
    for gadget_ticket in ("gadget-ticket-7", "gadget-ticket-8"):
        assert wamp_client(gadget_ticket).call("pyramidion.demo.count", 1)["readings"] == 1

    # ...and still asks, and refuses, for any other role.
    with pytest.raises(ApplicationError) as error:
        user.call("pyramidion.demo.count", 1)
    assert error.value.error == "wamp.error.not_authorized"


def test_a_procedure_is_declared_as_what_it_is(registry):
    session = BackendSession(registry)

    async def on_the_loop(caller):
        return None

    with pytest.raises(TypeError):
        session.register_procedure("pyramidion.demo.wrong", on_the_loop)
    with pytest.raises(TypeError):
        session.register_async_procedure("pyramidion.demo.wrong", lambda request, caller: None)


def next_of(session_id: int, callers: queue.Queue[Caller]) -> Caller:
    """The next caller of that WAMP session (clients of earlier tests may still be leaving)."""
    while (caller := callers.get(timeout=TIMEOUT)).session != session_id:
        pass
    return caller


def test_plugins_hear_clients_join_and_leave(backend, demo, make_user, ticket, wamp_client):
    alice = make_user("alice")
    client = wamp_client(ticket(alice))

    joined = next_of(client.details.session, demo.joined)
    assert (joined.role, joined.authid, joined.user_id) == ("user", f"user:{alice.id}", alice.id)
    client.close()
    assert next_of(client.details.session, demo.left) == joined


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
