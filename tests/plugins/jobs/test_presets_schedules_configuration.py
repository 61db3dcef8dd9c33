"""Presets, schedules run by the periodic task, the runner configuration, the template list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from pyramidion_jobs.models import Schedule
from pyramidion_jobs.tasks import launch_scheduled_runs

HOSTS = "r1: {hostname: 10.0.0.1}\nr2: {hostname: 10.0.0.2}\n"


def setup_preset(app, headers):
    inventory = app.post_json(
        "/api/jobs/inventories/import", {"name": "lab", "hosts": HOSTS}, headers=headers, status=201
    ).json["inventory"]["id"]
    return app.post_json(
        "/api/jobs/presets",
        {
            "name": "greet",
            "template": "say",
            "inventory_id": inventory,
            "variables": {"text": "hi"},
            "filters": {"hosts": ["r2"]},
        },
        headers=headers,
        status=201,
    ).json


def test_preset_launch_runs_as_saved(app, make_user, login):
    headers = login(make_user("netadmin", ["jobs.run", "jobs.inventory"]))
    preset = setup_preset(app, headers)
    run = app.post_json(f"/api/jobs/presets/{preset['id']}/launch", {}, headers=headers, status=202).json
    assert (run["preset_id"], run["name"], run["variables"]) == (preset["id"], "greet", {"text": "hi"})
    hosts = app.get(f"/api/jobs/runs/{run['id']}/hosts", headers=headers).json["results"]
    assert [(h["host"], h["result"][0]["result"]) for h in hosts] == [("r2", "r2 says hi")]
    app.post_json(
        "/api/jobs/presets", {**preset, "name": "greet"}, headers=headers, status=422
    )  # id etc. are not input
    duplicate = {k: preset[k] for k in ("name", "template", "inventory_id", "variables")}
    app.post_json("/api/jobs/presets", duplicate, headers=headers, status=409)


def test_due_schedule_launches_once_and_moves_on(app, make_user, login, registry, db):
    headers = login(make_user("netadmin", ["jobs.run", "jobs.inventory"]))
    preset = setup_preset(app, headers)
    schedule = app.post_json(
        "/api/jobs/schedules",
        {"name": "weekday mornings", "preset_id": preset["id"], "cron": "0 6 * * 1-5", "timezone": "Europe/Zurich"},
        headers=headers,
        status=201,
    ).json
    next_run = dt.datetime.fromisoformat(schedule["next_run_at"])
    local = next_run.astimezone(
        dt.timezone(dt.timedelta(hours=1))
        if next_run.month in (1, 2, 3, 11, 12)
        else dt.timezone(dt.timedelta(hours=2))
    )
    assert local.hour == 6 and local.weekday() < 5
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    db.execute(update(Schedule).where(Schedule.id == schedule["id"]).values(next_run_at=past))
    db.commit()
    registry.huey_tasks[launch_scheduled_runs]()  # what the periodic scheduler does each minute
    registry.huey_tasks[launch_scheduled_runs]()  # a second look launches nothing more
    runs = app.get("/api/jobs/runs", {"schedule_id": schedule["id"]}, headers=headers).json
    assert runs["count"] == 1 and runs["results"][0]["status"] == "finished"
    after = app.get(f"/api/jobs/schedules/{schedule['id']}", headers=headers).json
    assert dt.datetime.fromisoformat(after["next_run_at"]) > dt.datetime.now(dt.UTC)


def test_schedule_input_is_checked(app, make_user, login):
    headers = login(make_user("netadmin", ["jobs.run", "jobs.inventory"]))
    preset = setup_preset(app, headers)
    both = app.post_json(
        "/api/jobs/schedules",
        {"name": "x", "preset_id": preset["id"], "cron": "* * * * *", "interval_seconds": 600},
        headers=headers,
        status=422,
    )
    assert "either cron or interval_seconds" in both.text
    bad = app.post_json(
        "/api/jobs/schedules",
        {"name": "x", "preset_id": preset["id"], "cron": "every day", "timezone": "Mars/Olympus"},
        headers=headers,
        status=422,
    ).json
    assert {d["field"] for d in bad["error"]["details"]} == {"cron", "timezone"}
    interval = app.post_json(
        "/api/jobs/schedules",
        {"name": "hourly", "preset_id": preset["id"], "interval_seconds": 3600},
        headers=headers,
        status=201,
    ).json
    assert interval["next_run_at"]


def test_configuration_read_by_all_written_by_administrators(app, make_user, login):
    viewer = login(make_user("viewer"))
    assert app.get("/api/jobs/configuration", headers=viewer).json == {"runner": "threaded", "num_workers": 20}
    app.put_json("/api/jobs/configuration", {"runner": "threaded", "num_workers": 5}, headers=viewer, status=403)
    admin = login(make_user("root", superuser=True))
    app.put_json("/api/jobs/configuration", {"runner": "threaded", "num_workers": 0}, headers=admin, status=422)
    app.put_json("/api/jobs/configuration", {"runner": "threaded", "num_workers": 5}, headers=admin)
    assert app.get("/api/jobs/configuration", headers=viewer).json["num_workers"] == 5


def test_templates_are_published_with_json_schema(app, make_user, login):
    headers = login(make_user("viewer"))
    page = app.get("/api/jobs/templates", {"limit": 100}, headers=headers).json
    templates = {t["name"]: t for t in page["results"]}
    assert {"hello_world", "say", "command", "napalm_getters", "ping"} <= set(templates)
    ping = templates["ping"]["parameters"]
    assert ping["required"] == ["target"]
    assert ping["properties"]["count"]["default"] == 5
    assert ping["properties"]["target"]["description"] == "the address or name to ping"
    assert templates["get_configuration"]["parameters"]["properties"]["retrieve"]["enum"] == [
        "all",
        "running",
        "startup",
        "candidate",
    ]
    app.get("/api/jobs/templates/nope", headers=headers, status=404)


def test_default_groups_have_the_original_rights(registry):
    groups = registry.default_groups
    assert set(groups["superuser"]) >= {"jobs.run", "jobs.inventory", "jobs.configure"}
    assert groups["netadmin"] == ["jobs.run"]
    assert groups["support"] == []
