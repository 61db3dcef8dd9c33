"""Runs: launched through the queue, results in Nornir's shape, abort, relaunch, sensitive variables."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pytest
from nornir.core.task import Result, Task
from pyramid.config import Configurator
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion_jobs.catalogue import Sensitive
from pyramidion_jobs.interfaces import IJobRunner
from pyramidion_jobs.models import Run

HOSTS = "".join(f"h{i}:\n  hostname: 10.0.0.{i}\n  data: {{broken: {str(i % 2 == 0).lower()}}}\n" for i in range(1, 6))


def fails_on_broken_hosts(task: Task) -> Result:
    """Fails on hosts whose data says broken."""
    if task.host["broken"]:
        raise RuntimeError(f"{task.host.name} is broken")
    return Result(host=task.host, result="fine", changed=True)


def leaf(task: Task) -> Result:
    return Result(host=task.host, result="leaf", diff="+ line")


def middle(task: Task) -> Result:
    task.run(task=leaf)
    return Result(host=task.host, result="middle")


def nested(task: Task) -> Result:
    """Runs a subtask that runs a subtask."""
    task.run(task=middle)
    return Result(host=task.host, result="top")


def log_in(task: Task, password: Annotated[str, Sensitive()], user: str = "admin") -> Result:
    """Logs in.

    Args:
        password: never stored
        user: who logs in
    """
    return Result(host=task.host, result=f"{user} used a password of {len(password)} characters")


class TemplatesPlugin:
    """A plugin giving templates through the jobs plugin's hook."""

    def __init__(self, **templates: Any) -> None:
        self.templates = templates

    @hookimpl
    def pyramidion_job_templates(self) -> dict[str, Any]:
        return self.templates


@pytest.fixture
def jobs_app(make_app):
    def build(**templates):
        plugin = TemplatesPlugin(fails_on_broken_hosts=fails_on_broken_hosts, nested=nested, log_in=log_in, **templates)
        return make_app(extra_plugins=(("test_templates", plugin),), jobs__flush_interval="0")

    return build


@pytest.fixture
def admin(make_user, login):
    return login(make_user("root", superuser=True))


def make_inventory(app, headers, hosts=HOSTS):
    return app.post_json(
        "/api/jobs/inventories/import", {"name": "lab", "hosts": hosts}, headers=headers, status=201
    ).json["inventory"]["id"]


def host_results(app, headers, run_id):
    page = app.get(f"/api/jobs/runs/{run_id}/hosts", {"limit": 100}, headers=headers).json
    return {h["host"]: h for h in page["results"]}


def test_hello_world_runs_on_every_host(app, admin):
    inventory = make_inventory(app, admin)
    launched = app.post_json(
        "/api/jobs/runs", {"template": "hello_world", "inventory_id": inventory}, headers=admin, status=202
    ).json
    run = app.get(f"/api/jobs/runs/{launched['id']}", headers=admin).json
    assert (run["status"], run["hosts_total"], run["hosts_failed"]) == ("finished", 5, 0)
    assert run["started_at"] and run["finished_at"]
    results = host_results(app, admin, run["id"])
    assert results["h3"]["result"][0]["result"] == "Hello from h3"
    assert results["h3"]["status"] == "finished"


def test_say_validates_variables_naming_each_field(app, admin):
    inventory = make_inventory(app, admin)
    missing = app.post_json(
        "/api/jobs/runs", {"template": "say", "inventory_id": inventory}, headers=admin, status=422
    ).json
    assert [d["field"] for d in missing["error"]["details"]] == ["variables.text"]
    extra = app.post_json(
        "/api/jobs/runs",
        {"template": "say", "inventory_id": inventory, "variables": {"text": 1, "loud": True}},
        headers=admin,
        status=422,
    ).json
    assert {d["field"] for d in extra["error"]["details"]} == {"variables.text", "variables.loud"}
    assert app.get("/api/jobs/runs", headers=admin).json["count"] == 0
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "say", "inventory_id": inventory, "variables": {"text": "hi"}, "filters": {"hosts": ["h1", "h2"]}},
        headers=admin,
        status=202,
    ).json
    assert sorted(host_results(app, admin, run["id"])) == ["h1", "h2"]
    assert host_results(app, admin, run["id"])["h1"]["result"][0]["result"] == "h1 says hi"


def test_filters_by_attribute_and_unknown_hosts(jobs_app, admin):
    app = jobs_app()
    inventory = make_inventory(app, admin)
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "hello_world", "inventory_id": inventory, "filters": {"attributes": {"broken": True}}},
        headers=admin,
        status=202,
    ).json
    assert sorted(host_results(app, admin, run["id"])) == ["h2", "h4"]
    unknown = app.post_json(
        "/api/jobs/runs",
        {"template": "hello_world", "inventory_id": inventory, "filters": {"hosts": ["h1", "ghost"]}},
        headers=admin,
        status=422,
    )
    assert "ghost" in unknown.json["error"]["message"]


def test_failed_hosts_and_relaunch_on_them_only(jobs_app, admin):
    app = jobs_app()
    inventory = make_inventory(app, admin)
    first = app.post_json(
        "/api/jobs/runs", {"template": "fails_on_broken_hosts", "inventory_id": inventory}, headers=admin, status=202
    ).json
    run = app.get(f"/api/jobs/runs/{first['id']}", headers=admin).json
    assert (run["status"], run["hosts_failed"]) == ("failed", 2)
    failed = host_results(app, admin, run["id"])["h2"]
    assert failed["failed"] is True and "h2 is broken" in failed["result"][0]["exception"]
    again = app.post_json(f"/api/jobs/runs/{run['id']}/relaunch", {}, headers=admin, status=202).json
    assert again["relaunch_of_id"] == run["id"] and again["filters"]["hosts"] == ["h2", "h4"]
    assert sorted(host_results(app, admin, again["id"])) == ["h2", "h4"]
    listed = app.get("/api/jobs/runs", {"status": "failed"}, headers=admin).json
    assert [r["id"] for r in listed["results"]] == [again["id"], run["id"]]


def test_results_keep_nested_subtasks(jobs_app, admin):
    app = jobs_app()
    inventory = make_inventory(app, admin)
    run = app.post_json(
        "/api/jobs/runs", {"template": "nested", "inventory_id": inventory}, headers=admin, status=202
    ).json
    tree = host_results(app, admin, run["id"])["h1"]["result"]
    assert tree == [
        {
            "name": "nested",
            "result": "top",
            "changed": False,
            "diff": "",
            "failed": False,
            "exception": None,
            "subtasks": [
                {
                    "name": "middle",
                    "result": "middle",
                    "changed": False,
                    "diff": "",
                    "failed": False,
                    "exception": None,
                    "subtasks": [
                        {
                            "name": "leaf",
                            "result": "leaf",
                            "changed": False,
                            "diff": "+ line",
                            "failed": False,
                            "exception": None,
                            "subtasks": [],
                        }
                    ],
                }
            ],
        }
    ]


def test_sensitive_variables_are_used_never_stored_and_never_scheduled(jobs_app, admin, db):
    app = jobs_app()
    inventory = make_inventory(app, admin)
    template = app.get("/api/jobs/templates/log_in", headers=admin).json
    assert template["sensitive"] == ["password"]
    assert template["parameters"]["properties"]["password"]["writeOnly"] is True
    assert template["parameters"]["properties"]["user"]["description"] == "who logs in"
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    refused = app.post_json(
        "/api/jobs/runs",
        {"template": "log_in", "inventory_id": inventory, "variables": {"password": "hunter22"}, "scheduled_at": later},
        headers=admin,
        status=422,
    )
    assert refused.json["error"]["details"][0]["field"] == "scheduled_at"
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "log_in", "inventory_id": inventory, "variables": {"password": "hunter22"}},
        headers=admin,
        status=202,
    ).json
    assert run["variables"] == {"user": "admin"}
    assert host_results(app, admin, run["id"])["h1"]["result"][0]["result"] == "admin used a password of 8 characters"
    stored = db.scalar(select(Run).where(Run.id == run["id"]))
    assert "hunter22" not in str(stored.variables)
    preset = app.post_json(
        "/api/jobs/presets",
        {"name": "p", "template": "log_in", "inventory_id": inventory, "variables": {}},
        headers=admin,
        status=422,
    )
    assert preset.json["error"]["details"][0]["field"] == "variables.password"


def test_scheduled_run_waits_and_abort_stops_it(app, admin, registry, db):
    inventory = make_inventory(app, admin)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "hello_world", "inventory_id": inventory, "scheduled_at": later},
        headers=admin,
        status=202,
    ).json
    assert run["status"] == "scheduled" and run["scheduled_at"]
    aborted = app.post(f"/api/jobs/runs/{run['id']}/abort", headers=admin).json
    assert aborted["status"] == "aborted"
    # The queue delivers it when due: it must not run.
    from pyramidion_jobs.runner import execute_run

    execute_run(registry, run["id"])
    after = app.get(f"/api/jobs/runs/{run['id']}", headers=admin).json
    assert (after["status"], after["hosts_total"]) == ("aborted", 0)
    app.post(f"/api/jobs/runs/{run['id']}/abort", headers=admin, status=409)


def test_abort_stops_a_running_run_between_hosts(jobs_app, admin, make_user, login):
    operator = login(make_user("operator", ["jobs.run"]))
    calls = []

    def abort_after_first_host(task: Task) -> Result:
        """The first host aborts its own run through the API, as a user would meanwhile."""
        calls.append(task.host.name)
        if len(calls) == 1:
            run_id = app.get("/api/jobs/runs", {"status": "running"}, headers=operator).json["results"][0]["id"]
            app.post(f"/api/jobs/runs/{run_id}/abort", headers=operator, status=200)
        return Result(host=task.host, result="ran")

    app = jobs_app(abort_after_first_host=abort_after_first_host)
    app.put_json("/api/jobs/configuration", {"runner": "serial", "num_workers": 1}, headers=admin)
    inventory = make_inventory(app, admin)
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "abort_after_first_host", "inventory_id": inventory},
        headers=operator,
        status=202,
    ).json
    after = app.get(f"/api/jobs/runs/{run['id']}", headers=operator).json
    assert after["status"] == "aborted"
    assert calls == ["h1"]
    results = host_results(app, operator, run["id"])
    assert results["h1"]["status"] == "finished"
    assert {results[h]["status"] for h in ("h2", "h3", "h4", "h5")} == {"aborted"}


def test_launch_needs_the_run_permission(app, make_user, login, admin):
    inventory = make_inventory(app, admin)
    body = {"template": "hello_world", "inventory_id": inventory}
    app.post_json("/api/jobs/runs", body, status=401)
    app.post_json("/api/jobs/runs", body, headers=login(make_user("viewer")), status=403)
    app.post_json("/api/jobs/runs", body, headers=login(make_user("netadmin", ["jobs.run"])), status=202)
    app.post_json("/api/jobs/runs", {**body, "template": "nope"}, headers=admin, status=422)


class HeldRunner:
    """A runner that keeps what it is given instead of queueing it."""

    def __init__(self) -> None:
        self.started: list[tuple[int, dict[str, Any]]] = []

    def start(self, run: Run, sensitive: dict[str, Any]) -> str:
        self.started.append((run.id, sensitive))
        return "held"

    def execute(self, run_id: int, sensitive_token: str | None = None) -> None:
        raise AssertionError("a held run never executes")


def test_the_runner_is_a_service_a_test_can_swap(jobs_app, admin):
    app = jobs_app()
    held = HeldRunner()
    config = Configurator(registry=app.app.registry)
    config.register_service(held, IJobRunner)
    config.commit()
    inventory = make_inventory(app, admin)
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "log_in", "inventory_id": inventory, "variables": {"password": "hunter22"}},
        headers=admin,
        status=202,
    ).json
    assert held.started == [(run["id"], {"password": "hunter22"})]
    after = app.get(f"/api/jobs/runs/{run['id']}", headers=admin).json
    assert (after["status"], after["hosts_total"]) == ("created", 0)
