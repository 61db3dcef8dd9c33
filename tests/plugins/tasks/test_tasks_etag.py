"""The task list and a task's detail answer 304 while unchanged, and a fresh 200 once someone changed them."""

from __future__ import annotations


def test_list_and_detail_are_304_until_a_performer_changes_the_task(create_task, tasks_app, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    task = create_task(login(alice), [bob])
    detail_url = f"/api/tasks/{task['id']}"

    def get(url, tag, status):
        return tasks_app.get(url, headers={**login(alice), "If-None-Match": tag}, status=status)

    list_tag = tasks_app.get("/api/tasks", headers=login(alice)).headers["ETag"]
    detail_tag = tasks_app.get(detail_url, headers=login(alice)).headers["ETag"]
    assert get("/api/tasks", list_tag, 304).body == b""
    assert get(detail_url, detail_tag, 304).body == b""

    tasks_app.post_json(f"{detail_url}/comments", {"text": "on it"}, headers=login(bob), status=201)
    get("/api/tasks", list_tag, 304)  # the list shows no comments
    commented = get(detail_url, detail_tag, 200)
    assert commented.json["comments"][0]["text"] == "on it" and commented.headers["ETag"] != detail_tag

    tasks_app.patch_json(detail_url, {"status": "in_work"}, headers=login(bob))
    changed = get("/api/tasks", list_tag, 200)
    assert changed.json["results"][0]["status"] == "in_work" and changed.headers["ETag"] != list_tag
    get(detail_url, commented.headers["ETag"], 200)
