"""A user whose sessions end is dropped from the router too, through a real Crossbar router."""

from __future__ import annotations

import queue

import pytest
from autobahn.wamp.exception import ApplicationError

from pyramidion.realtime import user_topic
from pyramidion.testing import TIMEOUT, JoinRefused

pytestmark = [pytest.mark.router, pytest.mark.slow]

GOOD = "correct-horse-9"


def wait_until_dropped(client) -> None:
    client._run(lambda: client.session.disconnected)  # resolves when the router closes the connection


def test_an_administrators_password_change_drops_the_users_wamp_sessions(
    start_backend, realtime_app, make_user, login, ticket, wamp_client
):
    start_backend()
    app = realtime_app()
    admin, alice, bob = make_user("root", superuser=True), make_user("alice"), make_user("bob")
    alice_token, bob_token = ticket(alice), ticket(bob)
    alice_client, bob_client = wamp_client(alice_token), wamp_client(bob_token)
    bob_events = bob_client.subscribe(user_topic("core", bob.id, "news"))

    app.patch_json(f"/api/users/{alice.id}", {"password": GOOD}, headers=login(admin))

    wait_until_dropped(alice_client)
    with pytest.raises(JoinRefused):
        wamp_client(alice_token)  # the old login is over on the router too
    # Bob, whose credentials did not change, stays connected and keeps receiving.
    app.app.registry.realtime.publish(user_topic("core", bob.id, "news"), "still here")
    assert bob_events.get(timeout=TIMEOUT) == (("still here",), {})


def test_deactivation_drops_the_users_wamp_sessions(start_backend, realtime_app, make_user, login, ticket, wamp_client):
    start_backend()
    app = realtime_app()
    admin, alice = make_user("root", superuser=True), make_user("alice")
    client = wamp_client(ticket(alice))
    events = client.subscribe(user_topic("core", alice.id, "news"))
    app.patch_json(f"/api/users/{alice.id}", {"is_active": False}, headers=login(admin))
    wait_until_dropped(client)
    app.app.registry.realtime.publish(user_topic("core", alice.id, "news"), "secret")
    with pytest.raises(queue.Empty):
        events.get(timeout=1)


def test_after_my_own_password_change_the_kept_login_joins_again(
    start_backend, realtime_app, make_user, ticket, wamp_client
):
    start_backend()
    app = realtime_app()
    make_user("alice")
    tokens = app.post_json("/api/auth/token", {"username": "alice", "password": "password123"}).json
    other = app.post_json("/api/auth/token", {"username": "alice", "password": "password123"}).json
    client = wamp_client(tokens["access"])
    body = {"old_password": "password123", "new_password": GOOD}
    app.post_json("/api/auth/password", body, headers={"Authorization": f"Bearer {tokens['access']}"}, status=204)
    wait_until_dropped(client)
    assert wamp_client(tokens["access"]).details.authrole == "user"  # this login was kept
    with pytest.raises(JoinRefused):
        wamp_client(other["access"])


def test_a_client_cannot_drop_another_users_sessions(start_backend, make_user, ticket, wamp_client):
    start_backend()
    alice, mallory = make_user("alice"), make_user("mallory")
    alice_client = wamp_client(ticket(alice))
    mallory_client = wamp_client(ticket(mallory))
    with pytest.raises(ApplicationError):
        mallory_client.publish("pyramidion.realtime.sessions_revoked", alice.id, "mischief")
    alice_client.subscribe(user_topic("core", alice.id, "news"))  # still connected
    assert not alice_client.session.disconnected.done()
