"""The list and the detail build their answers from rows, not through the response
models: what they send must be, byte for byte, what the models make of the tasks."""

from __future__ import annotations

import orjson

from pyramidion_tasks.models import Attachment, Task
from pyramidion_tasks.schemas import TaskDetail, TaskOut


def _as_model_renders(model, task) -> bytes:
    return orjson.dumps(model.model_validate(task).model_dump(mode="json"))


def test_list_and_detail_are_what_the_documented_models_render(create_task, tasks_app, db, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    tasks_app.patch_json("/api/auth/me", {"first_name": "Bob", "last_name": "Ng"}, headers=login(bob))
    tasks_app.patch_json("/api/auth/me", {"last_name": "Diaz"}, headers=login(carol))
    task = create_task(login(alice), [carol, bob], name="Roof")
    create_task(login(alice), [alice], name="Gutter", specification="")
    url = f"/api/tasks/{task['id']}"
    for user, text in [(bob, "first"), (carol, "second")]:
        tasks_app.post_json(f"{url}/comments", {"text": text}, headers=login(user), status=201)
    tasks_app.patch_json(url, {"status": "in_work"}, headers=login(bob))
    db.add(
        Attachment(
            task_id=task["id"],
            uploader_id=carol.id,
            filename="plan.pdf",
            content_type="application/pdf",
            size=3,
            stored_name="stored",
        )
    )
    db.commit()
    db.expire_all()  # the users changed over the API since this session read them

    listed = tasks_app.get("/api/tasks", headers=login(alice)).json["results"]
    assert sorted(t["name"] for t in listed) == ["Gutter", "Roof"]
    for shown in listed:
        assert orjson.dumps(shown) == _as_model_renders(TaskOut, db.get(Task, shown["id"]))
    detail = tasks_app.get(url, headers=login(alice)).body
    assert detail == _as_model_renders(TaskDetail, db.get(Task, task["id"]))
    assert orjson.loads(detail)["performers"][0] == {"id": bob.id, "username": "bob", "display_name": "Bob Ng"}
