"""Inventories: import from SimpleInventory YAML, hosts and groups, credentials kept secret."""

from __future__ import annotations

from sqlalchemy import select

from pyramidion_jobs.models import InventoryHost

HOSTS = """
r1:
  hostname: 10.0.0.1
  password: host-secret
  groups: [edge]
  data: {site: zurich}
r2:
  hostname: 10.0.0.2
  platform: eos
  groups: [core]
sw1:
  hostname: 10.0.1.1
  groups: [edge, core]
  connection_options:
    netmiko:
      extras: {secret: enable-secret}
"""
GROUPS = """
core:
  platform: ios
  data: {role: core, site: geneva}
edge:
  groups: [core]
  data: {role: edge}
"""
DEFAULTS = """
port: 2222
username: automation
data: {domain: example.net, site: nowhere}
"""


def import_lab(app, headers, name="lab"):
    return app.post_json(
        "/api/jobs/inventories/import",
        {"name": name, "hosts": HOSTS, "groups": GROUPS, "defaults": DEFAULTS},
        headers=headers,
        status=201,
    ).json


def test_import_then_host_detail_merges_groups_and_defaults(app, make_user, login):
    headers = login(make_user("root", superuser=True))
    imported = import_lab(app, headers)
    assert (imported["hosts"], imported["groups"]) == (3, 2)
    inventory = imported["inventory"]["id"]
    r1 = app.get(f"/api/jobs/inventories/{inventory}/hosts/r1", headers=headers).json
    # Own data first, then edge, then edge's parent core, then the defaults.
    assert r1["data"] == {"site": "zurich", "role": "edge", "domain": "example.net"}
    assert (r1["platform"], r1["port"], r1["username"]) == ("ios", 2222, "automation")
    assert r1["extended_groups"] == ["edge", "core"]
    assert r1["password_set"] is True
    assert "password" not in r1


def test_credentials_are_encrypted_and_never_returned(app, make_user, login, db):
    headers = login(make_user("root", superuser=True))
    inventory = import_lab(app, headers)["inventory"]["id"]
    listed = app.get(f"/api/jobs/inventories/{inventory}/hosts", headers=headers)
    assert "host-secret" not in listed.text and "enable-secret" not in listed.text
    stored = db.scalar(select(InventoryHost).where(InventoryHost.name == "r1"))
    assert stored.password_encrypted and "host-secret" not in stored.password_encrypted
    sw1 = db.scalar(select(InventoryHost).where(InventoryHost.name == "sw1"))
    assert "enable-secret" not in sw1.connection_options_encrypted


def test_host_listing_filters_search_ordering_and_pages(app, make_user, login):
    headers = login(make_user("viewer"))
    admin = login(make_user("root", superuser=True))
    inventory = import_lab(app, admin)["inventory"]["id"]
    url = f"/api/jobs/inventories/{inventory}/hosts"
    names = lambda response: [h["name"] for h in response.json["results"]]  # noqa: E731
    assert names(app.get(url, {"group": "core"}, headers=headers)) == ["r2", "sw1"]
    assert names(app.get(url, {"platform": "eo"}, headers=headers)) == ["r2"]
    assert names(app.get(url, {"hostname": "10.0.1"}, headers=headers)) == ["sw1"]
    assert names(app.get(url, {"search": "r"}, headers=headers)) == ["r1", "r2"]
    page = app.get(url, {"ordering": "-name", "limit": 2}, headers=headers).json
    assert [h["name"] for h in page["results"]] == ["sw1", "r2"] and page["count"] == 3 and page["next"]
    assert app.get(url, {"colour": "red"}, headers=headers, status=422).json["error"]["details"][0]["field"] == "colour"


def test_hosts_and_groups_crud(app, make_user, login):
    headers = login(make_user("inventory-admin", ["jobs.inventory"]))
    inventory = app.post_json("/api/jobs/inventories", {"name": "new"}, headers=headers, status=201).json["id"]
    base = f"/api/jobs/inventories/{inventory}"
    app.post_json(f"{base}/groups", {"name": "core", "data": {"role": "core"}}, headers=headers, status=201)
    host = app.post_json(
        f"{base}/hosts",
        {"name": "r1", "hostname": "10.0.0.1", "groups": ["core"], "password": "s3cret"},
        headers=headers,
        status=201,
    ).json
    assert host["groups"] == ["core"] and host["password_set"] is True
    app.post_json(f"{base}/hosts", {"name": "r1"}, headers=headers, status=409)
    missing = app.post_json(f"{base}/hosts", {"name": "r2", "groups": ["nope"], "port": 0}, headers=headers, status=422)
    assert {d["field"] for d in missing.json["error"]["details"]} == {"port"}
    changed = app.patch_json(f"{base}/hosts/r1", {"password": None, "platform": "ios"}, headers=headers).json
    assert (changed["password_set"], changed["platform"], changed["hostname"]) == (False, "ios", "10.0.0.1")
    app.patch_json(f"{base}/groups/core", {"groups": ["core"]}, headers=headers, status=422)
    app.put_json(f"{base}/defaults", {"data": {"domain": "lab"}}, headers=headers)
    assert app.get(f"{base}/hosts/r1", headers=headers).json["data"] == {"role": "core", "domain": "lab"}
    app.delete(f"{base}/groups/core", headers=headers, status=204)
    assert app.get(f"{base}/hosts/r1", headers=headers).json["groups"] == []
    app.delete(f"{base}/hosts/r1", headers=headers, status=204)
    app.get(f"{base}/hosts/r1", headers=headers, status=404)


def test_group_cycles_are_refused(app, make_user, login):
    headers = login(make_user("root", superuser=True))
    inventory = import_lab(app, headers)["inventory"]["id"]
    response = app.patch_json(
        f"/api/jobs/inventories/{inventory}/groups/core", {"groups": ["edge"]}, headers=headers, status=422
    )
    assert "themselves" in response.json["error"]["message"]


def test_bad_yaml_names_the_problem_and_adds_nothing(app, make_user, login):
    headers = login(make_user("root", superuser=True))
    bad = app.post_json(
        "/api/jobs/inventories/import",
        {"name": "bad", "hosts": "r1:\n  groups: [ghost]\n"},
        headers=headers,
        status=422,
    ).json
    assert "ghost" in bad["error"]["message"] and bad["error"]["details"][0]["field"] == "hosts"
    assert app.get("/api/jobs/inventories", headers=headers).json["count"] == 0


def test_permissions(app, make_user, login):
    app.get("/api/jobs/inventories", status=401)
    viewer = login(make_user("viewer"))
    app.get("/api/jobs/inventories", headers=viewer, status=200)
    app.post_json("/api/jobs/inventories", {"name": "x"}, headers=viewer, status=403)
    runner = login(make_user("runner", ["jobs.run"]))
    app.post_json("/api/jobs/inventories", {"name": "x"}, headers=runner, status=403)
