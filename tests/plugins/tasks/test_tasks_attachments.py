"""Attachments: upload within type and size limits, download by those who may read the task."""

from __future__ import annotations

from pathlib import Path


def _attach(app, task, headers, filename="notes.txt", content=b"bring a ladder", content_type="text/plain", status=201):
    return app.post(
        f"/api/tasks/{task['id']}/attachments",
        upload_files=[("file", filename, content, content_type)],
        headers=headers,
        status=status,
    )


def _stored_files(tasks_settings) -> list[Path]:
    root = Path(tasks_settings["tasks__attachments__path"])
    return sorted(root.iterdir()) if root.exists() else []


def test_upload_then_download_by_the_people_of_the_task(create_task, tasks_app, make_user, login):
    alice, bob, stranger = make_user("alice"), make_user("bob"), make_user("stranger")
    task = create_task(login(alice), [bob])
    attachment = _attach(tasks_app, task, login(bob), filename="C:\\Users\\bob\\plan ü.txt").json
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == ("plan ü.txt", "text/plain", 14)
    assert attachment["uploader"]["username"] == "bob"
    assert tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["attachments"] == [attachment]

    url = f"/api/tasks/{task['id']}/attachments/{attachment['id']}"
    download = tasks_app.get(url, headers=login(alice))
    assert download.body == b"bring a ladder"
    assert download.content_type == "text/plain"
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''plan%20%C3%BC.txt"
    tasks_app.get(url, headers=login(stranger), status=403)
    other = create_task(login(alice), [alice], name="other")
    tasks_app.get(f"/api/tasks/{other['id']}/attachments/{attachment['id']}", headers=login(alice), status=404)


def test_type_is_checked_and_guessed_from_the_name_when_generic(
    create_task, tasks_app, make_user, login, tasks_settings
):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    error = _attach(tasks_app, task, login(alice), "run.sh", b"rm -rf /", "application/x-sh", status=415).json["error"]
    assert "application/x-sh" in error["message"]
    _attach(tasks_app, task, login(alice), "photo.exe", b"MZ", "application/octet-stream", status=415)
    guessed = _attach(tasks_app, task, login(alice), "scan.pdf", b"%PDF-1.4", "application/octet-stream").json
    assert guessed["content_type"] == "application/pdf"
    assert len(_stored_files(tasks_settings)) == 1


def test_oversized_files_are_refused_and_leave_nothing_behind(create_task, tasks_app, make_user, login, tasks_settings):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    _attach(tasks_app, task, login(alice), content=b"x" * 1000)  # the limit is 1000 bytes
    _attach(tasks_app, task, login(alice), content=b"x" * 1001, status=413)
    _attach(tasks_app, task, login(alice), content=b"x" * 200_000, status=413)
    assert len(tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["attachments"]) == 1
    assert len(_stored_files(tasks_settings)) == 1


def test_only_people_who_may_change_the_task_attach(create_task, tasks_app, make_user, login):
    alice = make_user("alice")
    boss = make_user("boss", permissions=["tasks.view_all"])
    task = create_task(login(alice), [alice])
    _attach(tasks_app, task, login(boss), status=403)
    error = tasks_app.post(
        f"/api/tasks/{task['id']}/attachments", {"file": "not a file"}, headers=login(alice), status=422
    ).json
    assert error["error"]["details"][0]["field"] == "file"


def test_deleting_an_attachment_or_its_task_removes_the_files(create_task, tasks_app, make_user, login, tasks_settings):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    first = _attach(tasks_app, task, login(alice)).json
    _attach(tasks_app, task, login(alice))
    tasks_app.delete(f"/api/tasks/{task['id']}/attachments/{first['id']}", headers=login(alice), status=204)
    tasks_app.get(f"/api/tasks/{task['id']}/attachments/{first['id']}", headers=login(alice), status=404)
    assert len(_stored_files(tasks_settings)) == 1
    tasks_app.delete(f"/api/tasks/{task['id']}", headers=login(alice), status=204)
    assert _stored_files(tasks_settings) == []


def test_the_upload_is_documented_as_a_multipart_file(app):
    operation = app.get("/api/openapi.json").json["paths"]["/api/tasks/{id}/attachments"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"]["contentMediaType"] == "application/octet-stream"
    assert "422" in operation["responses"]  # a request without the file


def test_uploads_may_exceed_the_api_body_limit_up_to_the_attachment_limit(
    make_app, tasks_settings, create_task, make_user, login
):
    app = make_app(**{**tasks_settings, "tasks__attachments__max_size": str(2 * 1024 * 1024)})
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    big = b"x" * (1024 * 1024 + 512 * 1024)  # over api.max_body_size (1 MiB), under the attachment limit
    assert _attach(app, task, login(alice), "big.txt", big).json["size"] == len(big)
    _attach(app, task, login(alice), "huge.txt", big * 2, status=413)
