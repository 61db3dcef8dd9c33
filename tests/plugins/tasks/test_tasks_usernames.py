"""Performers named by username, as the original tracker took them (issue 18.1)."""

from __future__ import annotations


def test_performers_by_username_besides_ids(tasks_app, make_user, login, due):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    body = {"name": "Paint the fence", "due_date": due, "performer_usernames": ["Bob"], "performer_ids": [carol.id]}
    task = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=201).json
    assert [p["username"] for p in task["performers"]] == ["bob", "carol"]
    assert tasks_app.get("/api/tasks", headers=login(bob)).json["count"] == 1

    url = f"/api/tasks/{task['id']}"
    changed = tasks_app.patch_json(url, {"performer_usernames": ["carol", "alice"]}, headers=login(alice)).json
    assert [p["username"] for p in changed["performers"]] == ["alice", "carol"]


def test_each_unknown_username_is_named_and_nothing_is_made(tasks_app, make_user, login, due):
    alice = make_user("alice")
    make_user("bob")
    body = {"name": "Ghost work", "due_date": due, "performer_usernames": ["bob", "nobody", "ghost"]}
    error = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=422).json["error"]
    assert [d["field"] for d in error["details"]] == ["performer_usernames"]
    assert "nobody" in error["message"] and "ghost" in error["message"] and "bob" not in error["message"]
    body = {"name": "Ghost work", "due_date": due, "performer_usernames": ["nobody"], "performer_ids": [4242]}
    error = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=422).json["error"]
    assert {d["field"] for d in error["details"]} == {"performer_ids", "performer_usernames"}
    assert tasks_app.get("/api/tasks", headers=login(alice)).json["count"] == 0


def test_a_task_needs_a_performer_by_one_name_or_the_other(tasks_app, make_user, login, due):
    alice = make_user("alice")
    error = tasks_app.post_json(
        "/api/tasks", {"name": "Nobody's", "due_date": due}, headers=login(alice), status=422
    ).json["error"]
    assert [d["field"] for d in error["details"]] == ["performer_ids"]
    assert "performer_usernames" in error["details"][0]["message"]


def test_an_inactive_user_is_no_performer(tasks_app, make_user, login, due):
    alice = make_user("alice")
    make_user("gone", active=False)
    body = {"name": "Left", "due_date": due, "performer_usernames": ["gone"]}
    error = tasks_app.post_json("/api/tasks", body, headers=login(alice), status=422).json["error"]
    assert "gone" in error["message"]


def test_delegating_to_a_username(create_task, tasks_app, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    task = create_task(login(alice), [bob])
    url = f"/api/tasks/{task['id']}/delegate"
    tasks_app.post_json(url, {"username": "nobody"}, headers=login(bob), status=422)
    tasks_app.post_json(url, {"username": "bob", "user_id": bob.id}, headers=login(bob), status=422)
    tasks_app.post_json(url, {"username": "BOB"}, headers=login(bob), status=409)
    delegated = tasks_app.post_json(url, {"username": "carol"}, headers=login(bob)).json
    assert [p["username"] for p in delegated["performers"]] == ["carol"] and delegated["delegated"] is True
    assert carol.id == delegated["performers"][0]["id"]


def test_the_list_finds_tasks_by_a_performers_name(create_task, tasks_app, make_user, login, db):
    alice, bob = make_user("alice"), make_user("bob")
    bob.first_name, bob.last_name = "Bob", "Novak"
    db.commit()
    create_task(login(alice), [bob], name="Paint the fence")
    create_task(login(alice), [alice], name="Call the plumber")

    def names(term):
        return [t["name"] for t in tasks_app.get(f"/api/tasks?search={term}", headers=login(alice)).json["results"]]

    assert names("novak") == ["Paint the fence"]
    assert names("bob") == ["Paint the fence"]
    assert names("fence") == ["Paint the fence"]
