"""The greetings API, as a client sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pyramidion.settings import SettingsError
from pyramidion_hello.models import Greeting


def test_a_greeting_is_created_and_delivered_after_the_request(client):
    ann = client()
    created = ann.post_json("/api/hello/greetings", {"name": "world"}, status=201).json
    assert created["name"] == "world"
    listed = ann.get("/api/hello/greetings").json
    assert [g["name"] for g in listed["results"]] == ["world"]
    assert listed["results"][0]["delivered_at"] is not None  # tasks run at once in tests


def test_each_user_sees_only_their_own_greetings(client):
    ann, bob = client(), client()
    ann.post_json("/api/hello/greetings", {"name": "from ann"}, status=201)
    assert bob.get("/api/hello/greetings").json["count"] == 0


def test_delivery_waits_for_the_queue(make_app, client, run_tasks, db):
    app = make_app(huey__url="memory")
    ann = client(app=app)
    greeting = ann.post_json("/api/hello/greetings", {"name": "later"}, status=201).json
    assert greeting["delivered_at"] is None
    assert run_tasks(app) == 1
    db.rollback()
    assert db.scalar(select(Greeting.delivered_at).where(Greeting.id == greeting["id"])) is not None


def test_bad_bodies_are_refused_and_nothing_is_stored(client, db):
    ann = client()
    assert (
        ann.post_json("/api/hello/greetings", {"name": ""}, status=422).json["error"]["details"][0]["field"] == "name"
    )
    refused = ann.post_json("/api/hello/greetings", {"name": "x", "colour": "red"}, status=422)
    assert refused.json["error"]["details"][0]["field"] == "colour"
    assert db.scalars(select(Greeting)).all() == []


def test_greetings_need_a_login(app):
    app.get("/api/hello/greetings", status=401)
    app.post_json("/api/hello/greetings", {"name": "world"}, status=401)


def test_a_user_keeps_at_most_the_configured_number(make_app, client):
    ann = client(app=make_app(hello__max_per_user="1"))
    ann.post_json("/api/hello/greetings", {"name": "one"}, status=201)
    refused = ann.post_json("/api/hello/greetings", {"name": "two"}, status=409)
    assert refused.json["error"]["message"] == "you have 1 greetings already"
    assert ann.get("/api/hello/greetings").json["count"] == 1


def test_a_bad_setting_stops_startup_naming_it(make_app):
    with pytest.raises(SettingsError, match="hello.max_per_user"):
        make_app(hello__max_per_user="0")


def test_the_api_index_and_document_list_the_plugin(app, client):
    assert "hello" in app.get("/api/").json["plugins"]
    assert "/api/hello/greetings" in app.get("/api/openapi.json").json["paths"]
