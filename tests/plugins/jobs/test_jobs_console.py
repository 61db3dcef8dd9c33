"""The jobs pages of the console, through WebTest: every page, its permissions, its forms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import pytest
from nornir.core.task import Result, Task
from webtest import TestApp

from pyramidion import hookimpl
from pyramidion.testing.browser import webtest_console_login
from pyramidion_jobs.catalogue import Sensitive

HOSTS = """
r1: {hostname: 10.0.0.1, platform: ios, groups: [core], password: host-secret, data: {broken: false}}
r2: {hostname: 10.0.0.2, platform: eos, groups: [core], data: {broken: true}}
sw1: {hostname: 10.0.1.1, platform: nxos, groups: [access], data: {broken: true}}
"""
GROUPS = "core: {data: {role: core}}\naccess: {}\n"


def fails_on_broken_hosts(task: Task) -> Result:
    """Fails on hosts whose data says broken."""
    if task.host["broken"]:
        raise RuntimeError(f"{task.host.name} is broken")
    return Result(host=task.host, result="fine")


def log_in(task: Task, password: Annotated[str, Sensitive()], retries: int = 2, verbose: bool = False) -> Result:
    """Logs in.

    Args:
        password: never stored
        retries: how often to try
        verbose: say more
    """
    return Result(host=task.host, result=f"a password of {len(password)} characters, {retries} retries")


def log_in_to_broken_hosts(task: Task, password: Annotated[str, Sensitive()]) -> Result:
    """Logs in, and fails on hosts whose data says broken."""
    if task.host["broken"]:
        raise RuntimeError(f"{task.host.name} refused the password")
    return Result(host=task.host, result=f"logged in with {len(password)} characters")


class TemplatesPlugin:
    @hookimpl
    def pyramidion_job_templates(self) -> dict[str, Any]:
        return {
            "fails_on_broken_hosts": fails_on_broken_hosts,
            "log_in": log_in,
            "log_in_to_broken_hosts": log_in_to_broken_hosts,
        }


@pytest.fixture
def console_app(make_app):
    """An app with two more templates, and a way to log a fresh client of it in."""
    wsgi = make_app(extra_plugins=(("test_templates", TemplatesPlugin()),), jobs__flush_interval="0").app

    def client(user: Any) -> tuple[TestApp, str]:
        testapp = TestApp(wsgi)
        return testapp, webtest_console_login(testapp, user.username)

    return client


@pytest.fixture
def admin(make_user):
    return make_user("root", superuser=True)


@pytest.fixture
def inventory(app, admin, login):
    return app.post_json(
        "/api/jobs/inventories/import",
        {"name": "lab", "hosts": HOSTS, "groups": GROUPS},
        headers=login(admin),
        status=201,
    ).json["inventory"]["id"]


def errors_beside_fields(page) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" id="field-([\w.]+)-error">([^<]*)</small>', page.text))


def runs(app, headers) -> list[dict[str, Any]]:
    return app.get("/api/jobs/runs", headers=headers).json["results"]


def page_urls(app, admin, login, inventory) -> list[str]:
    headers = login(admin)
    run = app.post_json(
        "/api/jobs/runs", {"template": "hello_world", "inventory_id": inventory}, headers=headers, status=202
    ).json["id"]
    return [
        "/console/jobs/",
        "/console/jobs/templates/ping",
        "/console/jobs/runs",
        f"/console/jobs/runs/{run}",
        f"/console/jobs/runs/{run}/live",
        "/console/jobs/inventories",
        f"/console/jobs/inventories/{inventory}",
        f"/console/jobs/inventories/{inventory}/hosts/r1",
        "/console/jobs/presets",
        "/console/jobs/schedules",
        "/console/jobs/configuration",
    ]


def test_every_page_opens_for_any_member_and_sends_anonymous_visitors_to_the_login(
    app, admin, login, inventory, make_user, console_session
):
    urls = page_urls(app, admin, login, inventory)
    for url in urls:
        response = app.get(url, status=302)
        assert response.location.startswith("http://localhost/console/login?next="), url
    console_session(make_user("viewer"))  # reading needs no more than a login, as in the API
    for url in urls:
        page = app.get(url, status=200)
        assert page.headers["Cache-Control"] == "no-store"
    menu = app.get("/console/").text
    assert 'href="http://localhost/console/jobs/"' in menu and ">Jobs<" in menu


def test_a_member_without_jobs_run_sees_no_buttons_and_every_change_is_refused(
    app, admin, login, inventory, make_user, console_session
):
    headers = login(admin)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "hello_world", "inventory_id": inventory, "scheduled_at": later},
        headers=headers,
        status=202,
    ).json["id"]
    preset = app.post_json(
        "/api/jobs/presets", {"name": "hello", "template": "hello_world", "inventory_id": inventory}, headers=headers
    ).json["id"]
    schedule = app.post_json(
        "/api/jobs/schedules", {"name": "hourly", "preset_id": preset, "interval_seconds": 3600}, headers=headers
    ).json["id"]
    token = console_session(make_user("viewer"))
    assert "Launching needs the permission" in app.get("/console/jobs/templates/say").text
    assert "Abort" not in app.get(f"/console/jobs/runs/{run}").text
    assert "Launch preset" not in app.get("/console/jobs/presets").text
    for url, form in [
        ("/console/jobs/templates/say", {"inventory_id": inventory, "text": "hi"}),
        (f"/console/jobs/runs/{run}/abort", {}),
        (f"/console/jobs/runs/{run}/relaunch", {}),
        (f"/console/jobs/presets/{preset}/launch", {}),
        (f"/console/jobs/presets/{preset}/delete", {}),
        ("/console/jobs/schedules", {"name": "x", "preset_id": preset, "interval_seconds": 600}),
        (f"/console/jobs/schedules/{schedule}/enabled", {}),
        (f"/console/jobs/schedules/{schedule}/delete", {}),
    ]:
        refused = app.post(url, {"csrf_token": token, **form}, status=403)
        assert "jobs.run" in refused.text, url
    assert [r["status"] for r in runs(app, headers)] == ["scheduled"]
    assert app.get(f"/api/jobs/schedules/{schedule}", headers=headers).json["enabled"] is True
    assert app.get("/api/jobs/presets", headers=headers).json["count"] == 1


def test_a_cookie_post_without_its_csrf_token_is_refused_and_changes_nothing(
    app, admin, login, inventory, make_user, console_session
):
    console_session(make_user("netadmin", ["jobs.run"]))
    for url, form in [
        ("/console/jobs/templates/say", {"inventory_id": inventory, "text": "hi"}),
        ("/console/jobs/schedules", {"name": "x", "preset_id": 1, "interval_seconds": 600}),
    ]:
        app.post(url, form, status=403)
        app.post(url, {**form, "csrf_token": "forged"}, status=403)
    assert runs(app, login(admin)) == []


def test_the_launch_form_is_generated_from_the_templates_schema(console_app, admin, inventory):
    client, _ = console_app(admin)
    ping = client.get("/console/jobs/templates/ping")
    target = ping.html.find("input", attrs={"name": "target"})
    assert target["type"] == "text" and target.has_attr("required")
    count = ping.html.find("input", attrs={"name": "count"})
    assert (count["type"], count["value"], count.has_attr("required")) == ("number", "5", False)
    assert "the address or name to ping" in ping.text
    inventories = ping.html.find("select", attrs={"name": "inventory_id"})
    assert [o.text for o in inventories.find_all("option")] == ["Choose an inventory", "lab"]
    retrieve = client.get("/console/jobs/templates/get_configuration").html.find("select", attrs={"name": "retrieve"})
    assert [o["value"] for o in retrieve.find_all("option")] == ["all", "running", "startup", "candidate"]
    assert retrieve.find("option", selected=True)["value"] == "running"
    getters = client.get("/console/jobs/templates/napalm_getters").html.find("input", attrs={"name": "getters"})
    assert getters["value"] == "facts"
    secret = client.get("/console/jobs/templates/log_in").html
    assert secret.find("input", attrs={"name": "password"})["type"] == "password"
    assert secret.find("input", attrs={"name": "verbose"})["type"] == "checkbox"
    client.get("/console/jobs/templates/nope", status=404)


def test_launching_from_the_console_runs_the_template_and_shows_each_hosts_result(
    console_app, admin, login, inventory, app
):
    client, token = console_app(admin)
    form = {"csrf_token": token, "inventory_id": inventory, "password": "hunter22", "retries": "3", "hosts": "r1, sw1"}
    launched = client.post("/console/jobs/templates/log_in", form, status=303)
    run_page = launched.follow()
    assert "launched" in run_page.text
    results = {row["data-host"]: row.text for row in run_page.html.select("tr[data-host]")}
    assert sorted(results) == ["r1", "sw1"]
    assert "a password of 8 characters, 3 retries" in results["r1"]
    run = runs(app, login(admin))[0]
    assert run["variables"] == {"retries": 3, "verbose": False} and run["filters"]["hosts"] == ["r1", "sw1"]
    assert "hunter22" not in run_page.text


def test_a_wrong_launch_form_names_each_field_beside_it_and_launches_nothing(console_app, admin, login, inventory, app):
    client, token = console_app(admin)
    empty = client.post("/console/jobs/templates/log_in", {"csrf_token": token, "retries": "many"}, status=422)
    assert set(errors_beside_fields(empty)) == {"inventory_id", "password", "retries"}
    assert empty.html.find("input", attrs={"name": "retries"})["value"] == "many"
    ghost = client.post(
        "/console/jobs/templates/say",
        {"csrf_token": token, "inventory_id": inventory, "text": "hi", "hosts": "ghost"},
        status=422,
    )
    assert "ghost" in errors_beside_fields(ghost)["hosts"]
    later = client.post(
        "/console/jobs/templates/log_in",
        {"csrf_token": token, "inventory_id": inventory, "password": "x", "scheduled_at": "2999-01-01T06:00"},
        status=422,
    )
    assert "sensitive" in errors_beside_fields(later)["scheduled_at"]
    assert runs(app, login(admin)) == []


def test_a_launch_form_saved_as_a_preset_is_launched_and_deleted_from_the_presets_page(
    app, admin, login, inventory, console_session
):
    token = console_session(admin)
    form = {"csrf_token": token, "inventory_id": inventory, "text": "hi", "action": "save"}
    unnamed = app.post("/console/jobs/templates/say", form, status=422)
    assert errors_beside_fields(unnamed) == {"preset_name": "Field required"}
    presets = app.post("/console/jobs/templates/say", {**form, "preset_name": "greet"}, status=303).follow()
    assert "Preset greet saved" in presets.text and "greet" in presets.html.find("tbody").text
    preset = app.get("/api/jobs/presets", headers=login(admin)).json["results"][0]
    assert (preset["template"], preset["variables"]) == ("say", {"text": "hi"})
    run_page = app.post(f"/console/jobs/presets/{preset['id']}/launch", {"csrf_token": token}, status=303).follow()
    assert "r2 says hi" in run_page.text
    app.post(f"/console/jobs/presets/{preset['id']}/delete", {"csrf_token": token}, status=303)
    assert app.get("/api/jobs/presets", headers=login(admin)).json["count"] == 0


def test_schedules_show_their_next_run_in_their_time_zone_and_are_paused_and_deleted(
    app, admin, login, inventory, console_session
):
    headers = login(admin)
    preset = app.post_json(
        "/api/jobs/presets", {"name": "hello", "template": "hello_world", "inventory_id": inventory}, headers=headers
    ).json["id"]
    token = console_session(admin)
    form = {"csrf_token": token, "name": "mornings", "preset_id": preset, "timezone": "Mars/Olympus", "cron": "nope"}
    refused = app.post("/console/jobs/schedules", form, status=422)
    assert set(errors_beside_fields(refused)) == {"timezone", "cron"}
    form.update(timezone="America/New_York", cron="30 6 * * *", enabled="on")
    page = app.post("/console/jobs/schedules", form, status=303).follow()
    shown = page.html.find("tbody").find("time")
    assert shown.text.endswith("06:30:00 America/New_York")
    stored = app.get("/api/jobs/schedules", headers=headers).json["results"][0]
    assert dt.datetime.fromisoformat(shown["datetime"]) == dt.datetime.fromisoformat(stored["next_run_at"])
    app.post(f"/console/jobs/schedules/{stored['id']}/enabled", {"csrf_token": token}, status=303)
    assert app.get(f"/api/jobs/schedules/{stored['id']}", headers=headers).json["enabled"] is False
    assert "(paused)" in app.get("/console/jobs/schedules").text
    app.post(f"/console/jobs/schedules/{stored['id']}/delete", {"csrf_token": token}, status=303)
    assert app.get("/api/jobs/schedules", headers=headers).json["count"] == 0


def test_a_run_is_aborted_and_its_failed_hosts_relaunched_from_its_page(console_app, admin, login, inventory, app):
    headers = login(admin)
    client, token = console_app(admin)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    waiting = app.post_json(
        "/api/jobs/runs",
        {"template": "hello_world", "inventory_id": inventory, "scheduled_at": later},
        headers=headers,
        status=202,
    ).json["id"]
    assert "Abort run" in client.get(f"/console/jobs/runs/{waiting}").text
    aborted = client.post(f"/console/jobs/runs/{waiting}/abort", {"csrf_token": token}, status=303).follow()
    assert f"Run {waiting} aborted" in aborted.text and "Abort run" not in aborted.text
    again = client.post(f"/console/jobs/runs/{waiting}/abort", {"csrf_token": token}, status=409)
    assert "aborted already" in again.text
    failing = client.post(
        "/console/jobs/templates/fails_on_broken_hosts", {"csrf_token": token, "inventory_id": inventory}, status=303
    ).follow()
    assert "r2 is broken" in failing.text and "Relaunch on the 2 failed hosts" in failing.text
    run_id = runs(app, headers)[0]["id"]
    relaunched = client.post(f"/console/jobs/runs/{run_id}/relaunch", {"csrf_token": token}, status=303).follow()
    assert sorted(row["data-host"] for row in relaunched.html.select("tr[data-host]")) == ["r2", "sw1"]
    assert runs(app, headers)[0]["relaunch_of_id"] == run_id


def test_relaunching_a_run_with_a_sensitive_parameter_asks_for_it_again(console_app, admin, login, inventory, app):
    client, token = console_app(admin)
    headers = login(admin)
    succeeded = client.post_json(
        "/api/jobs/runs",
        {"template": "log_in", "inventory_id": inventory, "variables": {"password": "hunter22"}},
        headers=headers,
    ).json["id"]
    assert "Relaunch" not in client.get(f"/console/jobs/runs/{succeeded}").text  # no failed host
    refused = client.post(f"/console/jobs/runs/{succeeded}/relaunch", {"csrf_token": token}, status=409)
    assert "no failed hosts" in refused.text
    failed = client.post_json(
        "/api/jobs/runs",
        {"template": "log_in_to_broken_hosts", "inventory_id": inventory, "variables": {"password": "hunter22"}},
        headers=headers,
    ).json["id"]
    page = client.get(f"/console/jobs/runs/{failed}")
    assert (
        page.html.find("form", class_="relaunch-form").find("input", attrs={"name": "password"})["type"] == "password"
    )
    missing = client.post(f"/console/jobs/runs/{failed}/relaunch", {"csrf_token": token}, status=422)
    assert errors_beside_fields(missing) == {"password": "Field required"}
    assert len(runs(app, headers)) == 2
    again = client.post(
        f"/console/jobs/runs/{failed}/relaunch", {"csrf_token": token, "password": "another"}, status=303
    ).follow()
    rows = {row["data-host"]: row.text for row in again.html.select("tr[data-host]")}
    assert sorted(rows) == ["r2", "sw1"] and all("refused the password" in text for text in rows.values())
    assert "another" not in again.text and runs(app, headers)[0]["variables"] == {}


def test_hosts_are_searched_and_filtered_and_their_credentials_never_shown(
    app, admin, inventory, make_user, console_session
):
    console_session(make_user("viewer"))
    url = f"/console/jobs/inventories/{inventory}"

    def hosts(**query):
        return [row.find("td").text for row in app.get(url, query).html.find("tbody").find_all("tr")]

    assert hosts() == ["r1", "r2", "sw1"]
    assert hosts(group="core") == ["r1", "r2"]
    assert hosts(platform="eo") == ["r2"]
    assert hosts(search="10.0.1") == ["sw1"]
    assert app.get(url, {"colour": "red"}, status=422).text.count("colour") >= 1
    host = app.get(f"{url}/hosts/r1")
    assert "set (never shown)" in host.text and "host-secret" not in host.text
    assert '"role": "core"' in host.text
    assert [
        row.find("a").text for row in app.get("/console/jobs/inventories", {"search": "la"}).html.select("tbody tr")
    ] == ["lab"]


def test_runs_are_listed_newest_first_and_filtered_by_status(console_app, admin, inventory):
    client, token = console_app(admin)
    for template in ("hello_world", "fails_on_broken_hosts"):
        client.post(f"/console/jobs/templates/{template}", {"csrf_token": token, "inventory_id": inventory}, status=303)
    listed = client.get("/console/jobs/runs").html.find("tbody").find_all("tr")
    assert [row.find_all("td")[1].text for row in listed] == ["fails_on_broken_hosts", "hello_world"]
    failed = client.get("/console/jobs/runs", {"status": "failed"}).html.find("tbody").find_all("tr")
    assert [row.find_all("td")[1].text for row in failed] == ["fails_on_broken_hosts"]
    assert "2 of 3" in failed[0].text


def test_an_inventory_is_imported_from_yaml_with_the_apis_messages_beside_each_field(
    app, admin, login, make_user, console_session
):
    form = {"name": "branch", "hosts": "b1: {hostname: 10.1.0.1, groups: [edge], password: s3cret}\n"}
    token = console_session(make_user("netadmin", ["jobs.run"]))
    assert "Import an inventory" not in app.get("/console/jobs/inventories").text
    assert "jobs.inventory" in app.post("/console/jobs/inventories", {"csrf_token": token, **form}, status=403).text
    app = TestApp(app.app)  # another browser, for another user
    token = webtest_console_login(app, make_user("inventory-admin", ["jobs.inventory"]).username)
    unknown_group = app.post("/console/jobs/inventories", {"csrf_token": token, **form}, status=422)
    assert "edge" in errors_beside_fields(unknown_group)["hosts"]
    assert unknown_group.html.find("input", attrs={"name": "name"})["value"] == "branch"
    assert set(errors_beside_fields(app.post("/console/jobs/inventories", {"csrf_token": token}, status=422))) == {
        "name",
        "hosts",
    }
    assert app.get("/api/jobs/inventories", headers=login(admin)).json["count"] == 0
    imported = app.post(
        "/console/jobs/inventories", {"csrf_token": token, **form, "groups": "edge: {platform: ios}\n"}, status=303
    ).follow()
    assert "Inventory branch imported: 1 hosts, 1 groups" in imported.text
    assert [row.find("td").text for row in imported.html.find("tbody").find_all("tr")] == ["b1"]
    taken = app.post("/console/jobs/inventories", {"csrf_token": token, **form}, status=409)
    assert errors_beside_fields(taken)["name"] == "Already taken"


def test_the_runner_configuration_is_read_by_members_and_changed_by_administrators(
    app, admin, login, make_user, console_session
):
    token = console_session(make_user("netadmin", ["jobs.run"]))
    page = app.get("/console/jobs/configuration")
    assert "threaded" in page.text and "needs the permission" in page.text
    assert "jobs.configure" in app.post("/console/jobs/configuration", {"csrf_token": token}, status=403).text
    app = TestApp(app.app)
    token = webtest_console_login(app, admin.username)
    refused = app.post(
        "/console/jobs/configuration", {"csrf_token": token, "runner": "fast", "num_workers": "0"}, status=422
    )
    assert set(errors_beside_fields(refused)) == {"runner", "num_workers"}
    changed = app.post(
        "/console/jobs/configuration", {"csrf_token": token, "runner": "serial", "num_workers": "4"}, status=303
    ).follow()
    assert "Runs now use the serial runner" in changed.text
    assert app.get("/api/jobs/configuration", headers=login(admin)).json == {"runner": "serial", "num_workers": 4}
