"""What every jobs operation promises: pages for lists, unknown fields refused, one PATCH rule, documented statuses."""

from __future__ import annotations

import re

import pytest

from pyramidion_jobs.builtin_templates import hello_world


@pytest.fixture
def admin(make_user, login):
    return login(make_user("root", superuser=True))


def test_the_template_list_is_a_page_like_every_list(app, admin):
    everything = app.get("/api/jobs/templates", {"limit": 100}, headers=admin).json
    names = [t["name"] for t in everything["results"]]
    assert names == sorted(names) and everything["count"] == len(names) >= 8
    assert (everything["next"], everything["previous"]) == (None, None)
    first = app.get("/api/jobs/templates", {"limit": 3}, headers=admin).json
    assert [t["name"] for t in first["results"]] == names[:3] and first["count"] == len(names)
    second = app.get(first["next"], headers=admin).json
    assert [t["name"] for t in second["results"]] == names[3:6]
    assert app.get(second["previous"], headers=admin).json["results"] == first["results"]
    found = app.get("/api/jobs/templates", {"search": "NAPALM"}, headers=admin).json
    assert {"napalm_getters", "ping", "get_interfaces"} <= {t["name"] for t in found["results"]}
    assert "hello_world" not in {t["name"] for t in found["results"]}
    assert hello_world.__doc__.startswith(everything["results"][names.index("hello_world")]["description"])
    refused = app.get("/api/jobs/templates", {"limit": 0, "colour": "red"}, headers=admin, status=422).json
    assert {d["field"] for d in refused["error"]["details"]} == {"limit", "colour"}


def _path(registry, op):
    pattern = registry.introspector.get("routes", op.route_name)["pattern"]
    return "/" + re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: "1" if m.group(1) == "id" else "x", pattern).lstrip("/")


def test_every_body_refuses_unknown_fields_and_changes_nothing(app, admin, registry):
    operations = [op for op in registry.api_operations if op.route_name.startswith("jobs.") and op.body is not None]
    assert len(operations) >= 15
    for op in operations:
        response = app.request(
            _path(registry, op), method=op.method, json={"surprise": 1}, headers=admin, expect_errors=True
        )
        assert response.status_int == 422, (op.method, op.route_name, response.text)
        assert "surprise" in {d["field"] for d in response.json["error"]["details"]}, op.route_name
    for listing in ("inventories", "runs", "presets", "schedules"):
        assert app.get(f"/api/jobs/{listing}", headers=admin).json["count"] == 0


def test_patch_leaves_absent_fields_clears_nullable_ones_and_refuses_other_nulls(app, admin):
    inventory = app.post_json(
        "/api/jobs/inventories", {"name": "lab", "description": "racks"}, headers=admin, status=201
    ).json
    url = f"/api/jobs/inventories/{inventory['id']}"
    for field in ("name", "description"):
        refused = app.patch_json(url, {field: None}, headers=admin, status=422).json
        assert refused["error"]["details"][0]["field"] == field
    assert app.patch_json(url, {"description": "the lab"}, headers=admin).json["name"] == "lab"
    app.post_json(f"{url}/groups", {"name": "core"}, headers=admin, status=201)
    app.post_json(
        f"{url}/hosts", {"name": "r1", "hostname": "10.0.0.1", "platform": "ios", "groups": ["core"]}, headers=admin
    )
    for field in ("name", "groups", "data"):
        app.patch_json(f"{url}/hosts/r1", {field: None}, headers=admin, status=422)
    cleared = app.patch_json(f"{url}/hosts/r1", {"platform": None}, headers=admin).json
    assert (cleared["platform"], cleared["hostname"], cleared["groups"]) == (None, "10.0.0.1", ["core"])


STATUSES_ANSWERED = {
    ("/api/jobs/inventories", "post"): {"201", "409", "422"},
    ("/api/jobs/inventories/import", "post"): {"201", "409", "422"},
    ("/api/jobs/inventories/{id}", "patch"): {"200", "404", "409", "422"},
    ("/api/jobs/inventories/{id}/hosts", "post"): {"201", "404", "409", "422"},
    ("/api/jobs/inventories/{id}/hosts/{name}", "patch"): {"200", "404", "409", "422"},
    ("/api/jobs/inventories/{id}/groups", "post"): {"201", "404", "409", "422"},
    ("/api/jobs/inventories/{id}/groups/{name}", "patch"): {"200", "404", "409", "422"},
    ("/api/jobs/runs", "post"): {"202", "422"},
    ("/api/jobs/runs/{id}/abort", "post"): {"200", "404", "409"},
    ("/api/jobs/runs/{id}/relaunch", "post"): {"202", "404", "409", "422"},
    ("/api/jobs/presets", "post"): {"201", "409", "422"},
    ("/api/jobs/presets/{id}", "put"): {"200", "404", "409", "422"},
    ("/api/jobs/schedules", "post"): {"201", "409", "422"},
    ("/api/jobs/schedules/{id}", "put"): {"200", "404", "409", "422"},
    ("/api/jobs/templates", "get"): {"200", "422"},
}


def test_the_document_names_every_status_an_operation_answers(app):
    paths = app.get("/api/openapi.json").json["paths"]
    for (path, method), statuses in STATUSES_ANSWERED.items():
        documented = set(paths[path][method]["responses"])
        assert statuses <= documented, (method, path, statuses - documented)
    template_list = paths["/api/jobs/templates"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in template_list or {"count", "results"} <= set(template_list.get("properties", {}))
