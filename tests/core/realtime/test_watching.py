"""Which topics somebody is subscribed to, as the backend session knows from the router's meta events."""

from __future__ import annotations

import queue

import pytest

from pyramidion.realtime import user_topic
from pyramidion.testing import TIMEOUT, wait_for

pytestmark = [pytest.mark.router, pytest.mark.slow]


def next_watch_of(topic: str, watches: queue.Queue[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """The next subscriptions handed to the plugin that include ``topic`` (other tests' may come first)."""
    while (subscriptions := watches.get(timeout=TIMEOUT)) and (topic, "exact") not in subscriptions:
        pass
    return subscriptions


def test_a_topic_is_watched_while_somebody_subscribes_to_it(backend, demo, make_user, ticket, wamp_client):
    alice = make_user("alice")
    topic, other = user_topic("demo", alice.id, "pong"), user_topic("demo", alice.id, "other")
    assert not backend.session.watched(topic)

    watcher = wamp_client(ticket(alice))
    watcher.subscribe(topic)

    # The plugin hears it (to publish what it held back), and the backend answers from then on.
    assert (topic, "exact") in next_watch_of(topic, demo.watches)
    assert backend.session.watched(topic)
    assert not backend.session.watched(other)
    # A second subscriber is no new subscription: the topic stays watched until the last one goes.
    second = wamp_client(ticket(alice))
    second.subscribe(topic)
    watcher.close()
    assert backend.session.watched(topic)
    second.close()
    wait_for(lambda: not backend.session.watched(topic), message="the topic still counts as watched")


def test_a_backend_that_joins_later_knows_the_subscriptions_already_there(
    start_backend, demo, make_user, ticket, wamp_client
):
    alice = make_user("alice")
    topic = user_topic("demo", alice.id, "pong")
    first = start_backend(extra_plugins=[("demo", demo)])
    wamp_client(ticket(alice)).subscribe(topic)
    next_watch_of(topic, demo.watches)

    first.stop()
    again = start_backend(extra_plugins=[("demo", demo)])  # joined when it returns

    assert again.session.watched(topic)
    assert (topic, "exact") in next_watch_of(topic, demo.watches)
