"""The demo data: three users who log in by the one password scheme and find their tasks."""

from __future__ import annotations

from pyramidion_tasks import pyramidion_demo_data


def test_demo_data_twice_gives_one_set_the_demo_users_can_use(tasks_app, registry, in_transaction):
    for _ in range(2):
        in_transaction(lambda db: pyramidion_demo_data(db=db, registry=registry))

    def headers(username):
        credentials = {"username": username, "password": f"{username}-password"}
        return {"Authorization": f"Bearer {tasks_app.post_json('/api/auth/token', credentials).json['access']}"}

    anna = tasks_app.get("/api/tasks", headers=headers("anna")).json
    assert sorted(task["name"] for task in anna["results"]) == [
        "Prepare the quarterly report",
        "Renew the TLS certificates",
    ]
    report = next(task for task in anna["results"] if task["name"] == "Prepare the quarterly report")
    assert report["creator"]["display_name"] == "Anna Berg"
    detail = tasks_app.get(f"/api/tasks/{report['id']}", headers=headers("boris")).json
    assert [comment["author"]["username"] for comment in detail["comments"]] == ["anna", "boris"]
    assert tasks_app.get("/api/tasks", headers=headers("clara")).json["count"] == 2
