"""Tasks over HTTP: creating, listing, reading, changing, delegating, commenting, deleting."""

from __future__ import annotations

import datetime as dt


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_create_task_makes_caller_creator_with_performers(tasks_app, make_user, login, due):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    body = {"name": "Fix the roof", "specification": "It leaks.", "due_date": due, "performer_ids": [carol.id, bob.id]}
    task = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=201).json
    assert task["creator"] == {"id": alice.id, "username": "alice", "display_name": "alice"}
    assert [p["username"] for p in task["performers"]] == ["bob", "carol"]
    assert (task["status"], task["delegated"], task["due_date"]) == ("new", False, due)
    assert task["created_at"].endswith(("Z", "+00:00"))


def test_create_task_rejects_bad_input_naming_each_field(tasks_app, make_user, login):
    alice = make_user("alice")
    yesterday = (_today() - dt.timedelta(days=1)).isoformat()
    body = {"name": " ", "due_date": yesterday, "performer_ids": []}
    error = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=422).json["error"]
    assert {d["field"] for d in error["details"]} == {"name", "due_date", "performer_ids"}
    assert tasks_app.get("/api/tasks", headers=login(alice)).json["count"] == 0


def test_due_today_is_allowed(create_task, make_user, login):
    alice = make_user("alice")
    assert create_task(login(alice), [alice], due_date=_today().isoformat())["due_date"] == _today().isoformat()


def test_unknown_performer_is_invalid(tasks_app, make_user, login, due):
    alice = make_user("alice")
    body = {"name": "x", "due_date": due, "performer_ids": [alice.id, 99999]}
    error = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=422).json["error"]
    assert error["details"][0]["field"] == "performer_ids"
    assert "99999" in error["message"]


def test_duplicate_name_conflicts(create_task, tasks_app, make_user, login, due):
    alice = make_user("alice")
    create_task(login(alice), [alice], name="Paint")
    body = {"name": "Paint", "due_date": due, "performer_ids": [alice.id]}
    assert (
        tasks_app.post_json("/api/tasks", body, headers=login(alice), status=409).json["error"]["details"][0]["field"]
        == "name"
    )


def test_anonymous_gets_401_and_malformed_json_400(tasks_app, make_user, login):
    response = tasks_app.get("/api/tasks", status=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    alice = make_user("alice")
    tasks_app.post("/api/tasks", "{not json", headers={**login(alice), "Content-Type": "application/json"}, status=400)


def test_list_shows_only_callers_tasks_unless_scope_all_with_permission(create_task, tasks_app, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    boss = make_user("boss", permissions=["tasks.view_all"])
    create_task(login(alice), [bob], name="A for bob")
    create_task(login(bob), [carol], name="B for carol")
    create_task(login(carol), [carol], name="C alone")

    def names(user, query=""):
        return sorted(t["name"] for t in tasks_app.get(f"/api/tasks{query}", headers=login(user)).json["results"])

    assert names(alice) == ["A for bob"]
    assert names(bob) == ["A for bob", "B for carol"]
    assert names(carol) == ["B for carol", "C alone"]
    assert names(boss) == []
    assert names(boss, "?scope=all") == ["A for bob", "B for carol", "C alone"]
    assert tasks_app.get("/api/tasks?scope=all", headers=login(alice), status=403).json["error"]["message"]
    tasks_app.get("/api/tasks?scope=everything", headers=login(alice), status=422)


def test_list_pages_by_ten_latest_due_date_first(create_task, tasks_app, make_user, login):
    alice = make_user("alice")
    headers = login(alice)
    for day in range(12):
        create_task(headers, [alice], name=f"task {day:02}", due_date=(_today() + dt.timedelta(days=day)).isoformat())
    first = tasks_app.get("/api/tasks", headers=headers).json
    assert first["count"] == 12 and len(first["results"]) == 10
    assert [t["name"] for t in first["results"]][:3] == ["task 11", "task 10", "task 09"]
    second = tasks_app.get(first["next"], headers=headers).json
    assert [t["name"] for t in second["results"]] == ["task 01", "task 00"]
    assert second["next"] is None


def test_search_by_name_and_performer_and_filters(create_task, tasks_app, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    headers = login(alice)
    soon, later = _today() + dt.timedelta(days=2), _today() + dt.timedelta(days=20)
    create_task(headers, [bob], name="Order paint", due_date=soon.isoformat())
    done = create_task(headers, [carol], name="Call the plumber", due_date=later.isoformat())
    tasks_app.patch_json(f"/api/tasks/{done['id']}", {"status": "completed"}, headers=headers)

    def names(query):
        return sorted(t["name"] for t in tasks_app.get(f"/api/tasks?{query}", headers=headers).json["results"])

    assert names("search=PAINT") == ["Order paint"]
    assert names("search=carol") == ["Call the plumber"]
    assert names("search=%25") == []  # a LIKE wildcard is searched for literally
    assert names("status=completed") == ["Call the plumber"]
    assert names(f"due_before={(soon + dt.timedelta(days=1)).isoformat()}") == ["Order paint"]
    assert names(f"due_after={soon.isoformat()}&due_before={later.isoformat()}") == ["Call the plumber", "Order paint"]
    assert names(f"performer={bob.id}") == ["Order paint"]
    error = tasks_app.get("/api/tasks?status=lost&color=red", headers=headers, status=422).json["error"]
    assert "color" in error["message"]


def test_detail_shows_comments_newest_first_with_authors(create_task, tasks_app, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    task = create_task(login(alice), [bob])
    for user, text in [(alice, "first"), (bob, "second"), (alice, "third")]:
        tasks_app.post_json(f"/api/tasks/{task['id']}/comments", {"text": text}, headers=login(user), status=201)
    detail = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(bob)).json
    assert [(c["text"], c["author"]["username"]) for c in detail["comments"]] == [
        ("third", "alice"),
        ("second", "bob"),
        ("first", "alice"),
    ]
    assert detail["attachments"] == []


def test_strangers_cannot_read_or_comment_but_supervisors_can(create_task, tasks_app, make_user, login):
    alice, stranger = make_user("alice"), make_user("stranger")
    boss = make_user("boss", permissions=["tasks.view_all"])
    task = create_task(login(alice), [alice])
    tasks_app.get(f"/api/tasks/{task['id']}", headers=login(stranger), status=403)
    tasks_app.post_json(f"/api/tasks/{task['id']}/comments", {"text": "hi"}, headers=login(stranger), status=403)
    tasks_app.get("/api/tasks/424242", headers=login(alice), status=404)
    huge = 2**70  # past any id column's range: still no such task, not a database error
    assert (
        tasks_app.get(f"/api/tasks/{huge}", headers=login(alice), status=404).json["error"]["message"] == "no such task"
    )
    tasks_app.get(f"/api/tasks/{task['id']}/attachments/{huge}", headers=login(alice), status=404)
    tasks_app.post_json(f"/api/tasks/{task['id']}/comments", {"text": "on it?"}, headers=login(boss), status=201)
    assert tasks_app.get(f"/api/tasks/{task['id']}", headers=login(boss)).json["comments"][0]["text"] == "on it?"


def test_creator_and_performer_change_but_only_creator_changes_performers(create_task, tasks_app, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    boss = make_user("boss", permissions=["tasks.view_all"])
    task = create_task(login(alice), [bob])
    url = f"/api/tasks/{task['id']}"
    changed = tasks_app.patch_json(
        url, {"status": "in_work", "specification": "Bring a ladder."}, headers=login(bob)
    ).json
    assert (changed["status"], changed["specification"]) == ("in_work", "Bring a ladder.")
    error = tasks_app.patch_json(
        url, {"performer_ids": [carol.id], "status": "completed"}, headers=login(bob), status=403
    ).json
    assert "creator" in error["error"]["message"]
    # Sending the performers unchanged is not changing them.
    tasks_app.patch_json(url, {"performer_ids": [bob.id]}, headers=login(bob))
    tasks_app.patch_json(url, {"status": "completed"}, headers=login(boss), status=403)
    changed = tasks_app.patch_json(url, {"performer_ids": [carol.id, bob.id]}, headers=login(alice)).json
    assert [p["username"] for p in changed["performers"]] == ["bob", "carol"]
    assert tasks_app.get(url, headers=login(alice)).json["status"] == "in_work"


def test_update_validates_and_keeps_names_unique(create_task, tasks_app, make_user, login):
    alice = make_user("alice")
    create_task(login(alice), [alice], name="Taken")
    task = create_task(login(alice), [alice], name="Mine")
    url = f"/api/tasks/{task['id']}"
    tasks_app.patch_json(url, {"name": "Taken"}, headers=login(alice), status=409)
    past = (_today() - dt.timedelta(days=3)).isoformat()
    error = tasks_app.patch_json(url, {"due_date": past, "status": "done"}, headers=login(alice), status=422).json[
        "error"
    ]
    assert {d["field"] for d in error["details"]} == {"due_date", "status"}
    assert tasks_app.get(url, headers=login(alice)).json["name"] == "Mine"


def test_performer_delegates_and_task_is_marked_delegated(create_task, tasks_app, make_user, login):
    alice, bob, carol, dave = make_user("alice"), make_user("bob"), make_user("carol"), make_user("dave")
    task = create_task(login(alice), [bob, carol])
    url = f"/api/tasks/{task['id']}/delegate"
    tasks_app.post_json(url, {"user_id": dave.id}, headers=login(alice), status=403)  # the creator is no performer
    tasks_app.post_json(url, {"user_id": carol.id}, headers=login(bob), status=409)
    tasks_app.post_json(url, {"user_id": 99999}, headers=login(bob), status=422)
    delegated = tasks_app.post_json(url, {"user_id": dave.id}, headers=login(bob)).json
    assert delegated["delegated"] is True
    assert [p["username"] for p in delegated["performers"]] == ["carol", "dave"]
    # Bob handed his part on: the task is no longer his.
    assert tasks_app.get("/api/tasks", headers=login(bob)).json["count"] == 0
    assert tasks_app.get("/api/tasks?delegated=true", headers=login(dave)).json["count"] == 1


def test_creator_or_administrator_deletes(create_task, tasks_app, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    admin = make_user("admin", permissions=["tasks.admin"])
    first = create_task(login(alice), [bob], name="one")
    second = create_task(login(alice), [bob], name="two")
    tasks_app.post_json(f"/api/tasks/{first['id']}/comments", {"text": "a comment goes too"}, headers=login(bob))
    tasks_app.delete(f"/api/tasks/{first['id']}", headers=login(bob), status=403)
    tasks_app.delete(f"/api/tasks/{first['id']}", headers=login(alice), status=204)
    tasks_app.delete(f"/api/tasks/{second['id']}", headers=login(admin), status=204)
    tasks_app.get(f"/api/tasks/{first['id']}", headers=login(alice), status=404)
    assert tasks_app.get("/api/tasks", headers=login(alice)).json["count"] == 0


def test_every_endpoint_is_in_the_openapi_document(tasks_app):
    paths = tasks_app.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/tasks"]) == {"get", "post"}
    assert set(paths["/api/tasks/{id}"]) == {"get", "patch", "delete"}
    assert {
        "/api/tasks/{id}/delegate",
        "/api/tasks/{id}/comments",
        "/api/tasks/{id}/attachments",
        "/api/tasks/{id}/attachments/{attachment_id}",
    } <= set(paths)


def test_patch_leaves_absent_fields_alone_and_refuses_null(create_task, tasks_app, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    task = create_task(login(alice), [bob], name="Keep me")
    url = f"/api/tasks/{task['id']}"
    changed = tasks_app.patch_json(url, {"specification": "Shorter."}, headers=login(alice)).json
    assert (changed["name"], changed["specification"], changed["due_date"]) == ("Keep me", "Shorter.", task["due_date"])
    error = tasks_app.patch_json(url, {"name": None, "due_date": None}, headers=login(alice), status=422).json["error"]
    assert {d["field"] for d in error["details"]} == {"name", "due_date"}
    assert tasks_app.get(url, headers=login(alice)).json["name"] == "Keep me"


def test_the_public_index_says_what_the_plugin_offers(tasks_app):
    tasks = tasks_app.get("/api/").json["plugins"]["tasks"]
    assert tasks["url"] == "/api/tasks" and "performers" in tasks["description"]
    assert tasks_app.get(tasks["url"], status=401).json["error"]["status"] == 401  # there, for members
