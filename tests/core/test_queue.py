"""Background work: tasks leave only after commit and run in their own transaction."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from pydantic import BaseModel
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.api import Invalid
from pyramidion.auth.models import Group
from pyramidion.queue import task

attempts: dict[str, int] = {}


@task()
def create_group(request, name: str) -> None:
    request.db.add(Group(name=name))


@task(retries=1, retry_delay=0)
def create_group_on_second_try(request, name: str) -> None:
    request.db.add(Group(name=f"{name}-attempt-{attempts.get(name, 0) + 1}"))
    request.db.flush()
    attempts[name] = attempts.get(name, 0) + 1
    if attempts[name] == 1:
        raise RuntimeError("first attempt fails after writing")


class Order(BaseModel):
    name: str
    fail: bool = False
    flaky: bool = False


def enqueue(request, body: Order) -> dict:
    request.task(create_group_on_second_try if body.flaky else create_group)(body.name)
    if body.fail:
        raise Invalid("the request fails after enqueueing")
    return {"queued": body.name}


class QueuePlugin:
    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("queuetest.enqueue", "/enqueue")
        config.add_api_view(
            enqueue,
            "queuetest.enqueue",
            request_method="POST",
            body=Order,
            permission=NO_PERMISSION_REQUIRED,
            status=202,
        )

    @hookimpl
    def pyramidion_background_tasks(self, huey):
        return [create_group, create_group_on_second_try]


def group_names(db) -> set[str]:
    db.rollback()  # a new transaction sees what the worker committed since
    return set(db.scalars(select(Group.name)))


def test_a_task_runs_after_the_request_commits(make_app, db):
    app = make_app(extra_plugins=[("queuetest", QueuePlugin())])
    app.post_json("/api/queuetest/enqueue", {"name": "committed"}, status=202)
    assert "committed" in group_names(db)


def test_a_task_of_a_failed_request_never_runs(make_app, db):
    app = make_app(extra_plugins=[("queuetest", QueuePlugin())])
    app.post_json("/api/queuetest/enqueue", {"name": "rolled-back", "fail": True}, status=422)
    assert "rolled-back" not in group_names(db)


def _real_queue_url(tmp_path) -> str:
    return os.environ.get("PYRAMIDION_TEST_REDIS_URL") or f"sqlite:///{tmp_path}/huey.sqlite"


def wait_for(condition, timeout: float = 20.0):
    """Poll until ``condition()`` is true (bounded): the worker runs in other threads."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def worker_app(make_app, tmp_path):
    app = make_app(
        extra_plugins=[("queuetest", QueuePlugin())],
        huey__url=_real_queue_url(tmp_path),
        huey__name=f"test-{uuid.uuid4().hex}",
    )
    huey = app.app.registry.huey
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    yield app
    consumer.stop(graceful=True)
    huey.flush()


def test_a_worker_consumes_from_the_real_queue(worker_app, db):
    worker_app.post_json("/api/queuetest/enqueue", {"name": "from-worker"}, status=202)
    wait_for(lambda: "from-worker" in group_names(db))


def test_a_failed_attempt_rolls_back_its_writes_and_the_retry_succeeds(worker_app, db):
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    worker_app.post_json("/api/queuetest/enqueue", {"name": name, "flaky": True}, status=202)
    wait_for(lambda: f"{name}-attempt-2" in group_names(db))
    assert f"{name}-attempt-1" not in group_names(db)
