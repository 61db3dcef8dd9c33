"""The backend ends WAMP access when what let a principal in goes away (issue 16.1)."""

from __future__ import annotations

import asyncio
import queue

import pytest

from pyramidion.realtime import user_topic

pytestmark = pytest.mark.router
WAIT = 20


def wait_disconnected(client):
    async def disconnected():
        await asyncio.wait_for(asyncio.shield(client.session.disconnected), WAIT)

    asyncio.run_coroutine_threadsafe(disconnected(), client._loop).result(WAIT + 5)


def test_end_sessions_drops_every_session_of_a_principal(make_user, ticket, start_backend, wamp_client):
    ann, bob = make_user("ann"), make_user("bob")
    backend = start_backend()
    first, second = wamp_client(ticket(ann)), wamp_client(ticket(ann))
    bobs = wamp_client(ticket(bob))
    assert backend.session.end_sessions(f"user:{ann.id}", "what let ann in went away")
    wait_disconnected(first)
    wait_disconnected(second)
    # Bob's session stays: he still receives what is his.
    events = bobs.subscribe(user_topic("demo", bob.id, "news"))
    backend.session.publish(user_topic("demo", bob.id, "news"), "still here")
    assert events.get(timeout=WAIT)[0] == ("still here",)


def test_unsubscribe_ends_a_subscription(make_user, ticket, start_backend, wamp_client):
    ann = make_user("ann")
    backend = start_backend()
    topic = user_topic("demo", ann.id, "news")
    watched = wamp_client(ticket(ann)).subscribe(topic)
    backend.session.publish(topic, "before")
    assert watched.get(timeout=WAIT)[0] == ("before",)

    assert backend.session.unsubscribe(topic, f"user:{ann.id}", "no longer shared")
    # The removal is asynchronous: probe (bounded) until an event published after it reaches a
    # new subscriber and not the old one. (Autobahn|JS keeps its session and resolves the
    # subscription's on_unsubscribe, see test_live.py; Autobahn for Python drops the session.)
    for attempt in range(WAIT):
        backend.session.publish(topic, f"after {attempt}")
        fresh = wamp_client(ticket(ann))
        probe = fresh.subscribe(topic)
        backend.session.publish(topic, f"probe {attempt}")
        assert probe.get(timeout=WAIT)[0] == (f"probe {attempt}",)
        fresh.close()
        try:
            watched.get_nowait()
        except queue.Empty:
            return
    pytest.fail("the subscription was never removed")
