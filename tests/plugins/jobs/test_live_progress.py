"""A run's progress reaches a user over WAMP as it happens, through the real router."""

from __future__ import annotations

import pytest
from autobahn.wamp.exception import ApplicationError

from pyramidion.testing import TIMEOUT

HOSTS = "".join(f"h{i}:\n  hostname: 10.0.0.{i}\n" for i in range(1, 4))


@pytest.fixture
def backend(start_backend):
    return start_backend()


def test_a_user_follows_a_run_launched_over_rest(backend, realtime_app, make_user, login, ticket, wamp_client):
    app = realtime_app()
    operator = make_user("olga", permissions=["jobs.run", "jobs.inventory"])
    watcher = make_user("wim")  # any logged-in user may follow runs, as any may read them
    headers = login(operator)
    inventory = app.post_json(
        "/api/jobs/inventories/import", {"name": "lab", "hosts": HOSTS}, headers=headers, status=201
    ).json["inventory"]["id"]
    events = wamp_client(ticket(watcher)).subscribe("pyramidion.jobs.run", match="prefix")

    run = app.post_json(
        "/api/jobs/runs", {"template": "hello_world", "inventory_id": inventory}, headers=headers, status=202
    ).json

    statuses, finished_hosts = [], set()
    while "finished" not in statuses:
        args, _ = events.get(timeout=TIMEOUT)
        event = args[0]
        assert event["run"] == run["id"]
        if "status" in event:
            statuses.append(event["status"])
        for host in event.get("hosts", []):
            if host["event"] == "finished":
                finished_hosts.add(host["host"])
    assert statuses == ["running", "finished"]
    assert finished_hosts == {"h1", "h2", "h3"}


def test_following_runs_is_for_logged_in_users_on_run_topics_only(backend, make_user, ticket, wamp_client):
    client = wamp_client(ticket(make_user("wim")))
    client.subscribe("pyramidion.jobs.run.7")
    with pytest.raises(ApplicationError):
        client.subscribe("pyramidion.jobs.secrets")
