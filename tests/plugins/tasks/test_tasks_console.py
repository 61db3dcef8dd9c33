"""The task tracker's console pages, through WebTest: what each page shows, who may open it, CSRF."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from pyramidion.testing.browser import webtest_console_login


class Browser:
    """One person's console session: their own cookie jar over the shared app."""

    def __init__(self, app: TestApp, username: str) -> None:
        self.app = TestApp(app.app)
        self.csrf = webtest_console_login(self.app, username)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.app.get(url, **kwargs)

    def post(self, url: str, fields: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> Any:
        data = {**(fields or {}), **({"csrf_token": self.csrf} if csrf else {})}
        return self.app.post(url, data, **kwargs)


@pytest.fixture
def console(tasks_app: TestApp) -> Callable[[Any], Browser]:
    """``console(user)``: a console session of ``user`` (made with make_user)."""
    return lambda user: Browser(tasks_app, user.username)


def _due(days: int = 7) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def _rows(page: Any) -> list[str]:
    """The task names of a list page, in order."""
    return [link.text for link in page.html.select("table.tasks-table tbody td:first-child a")]


def _field_error(page: Any, name: str) -> str:
    error = page.html.find(id=f"field-{name}-error")
    return error.text.strip() if error else ""


# -- the list -----------------------------------------------------------------


def test_my_tasks_list_mine_ten_a_page_latest_due_first(console, create_task, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    for day in range(12):
        create_task(login(alice), [alice], name=f"task {day:02}", due_date=_due(day))
    create_task(login(bob), [bob], name="Bob's own")
    page = console(alice).get("/console/tasks/")
    assert page.status_int == 200
    assert _rows(page) == [f"task {day:02}" for day in range(11, 1, -1)]
    assert "Tasks 1–10 of 12" in page.text
    second = page.click(description="Next page")
    assert _rows(second) == ["task 01", "task 00"]
    assert "Tasks 11–12 of 12" in second.text


def test_the_list_searches_by_name_and_performer_and_orders(console, create_task, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    create_task(login(alice), [bob], name="Order paint", due_date=_due(2))
    create_task(login(alice), [alice], name="Call the plumber", due_date=_due(5))
    browser = console(alice)
    assert _rows(browser.get("/console/tasks/?search=paint")) == ["Order paint"]
    assert _rows(browser.get("/console/tasks/?search=bob")) == ["Order paint"]
    assert _rows(browser.get("/console/tasks/?ordering=due_date")) == ["Order paint", "Call the plumber"]
    assert _rows(browser.get("/console/tasks/?ordering=name")) == ["Call the plumber", "Order paint"]
    assert "No task matches “roof”" in browser.get("/console/tasks/?search=roof").text
    refused = browser.get("/console/tasks/?ordering=password", status=422)
    assert "cannot order by" in refused.text


def test_every_task_only_for_supervisors(console, create_task, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    boss = make_user("boss", permissions=["tasks.view_all"])
    create_task(login(alice), [alice], name="Alice's")
    create_task(login(bob), [bob], name="Bob's")
    supervisor = console(boss)
    assert _rows(supervisor.get("/console/tasks/")) == []
    everything = supervisor.get("/console/tasks/?scope=all")
    assert sorted(_rows(everything)) == ["Alice's", "Bob's"] and "<h1>Every task</h1>" in everything.text
    assert 'name="scope"' in supervisor.get("/console/tasks/").text
    member = console(alice)
    assert 'name="scope"' not in member.get("/console/tasks/").text
    assert "tasks.view_all" in member.get("/console/tasks/?scope=all", status=403).text


def test_the_menu_leads_to_my_tasks(console, make_user):
    home = console(make_user("alice")).get("/console/")
    assert (
        home.html.find("nav", attrs={"aria-label": "Console"})
        .find("a", string="Tasks")["href"]
        .endswith("/console/tasks/")
    )


@pytest.mark.parametrize("path", ["/", "/new", "/{id}", "/{id}/edit"])
def test_anonymous_visitors_are_sent_to_the_login(tasks_app, create_task, make_user, login, path):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    response = tasks_app.get(f"/console/tasks{path.format(id=task['id'])}", status=302)
    assert "/console/login?next=" in response.location and "%2Fconsole%2Ftasks" in response.location


@pytest.mark.parametrize(
    "path", ["/new", "/{id}/edit", "/{id}/comments", "/{id}/delegate", "/{id}/delete", "/{id}/attachments"]
)
def test_anonymous_forms_are_sent_to_the_login_and_change_nothing(tasks_app, create_task, make_user, login, path):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    response = tasks_app.post(f"/console/tasks{path.format(id=task['id'])}", {"text": "hi", "name": "x"}, status=302)
    assert "/console/login" in response.location
    unchanged = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json
    assert (unchanged["name"], unchanged["comments"]) == ("Fix the roof", [])


# -- creating -----------------------------------------------------------------


def test_creating_a_task_with_performers_by_username(console, make_user, login, tasks_app, mailbox):
    alice, bob = make_user("alice"), make_user("bob")
    browser = console(alice)
    form = browser.get("/console/tasks/new").html.find("form", class_="tasks-form")
    assert form.find(id="field-performer_usernames")["role"] == "combobox"
    fields = {"name": "Fix the roof", "specification": "It leaks.", "due_date": _due(), "performer_usernames": "Bob"}
    created = browser.post("/console/tasks/new", fields, status=303)
    page = browser.get(created.location)
    assert "<h1>Fix the roof</h1>" in page.text and "Task “Fix the roof” created" in page.text
    (task,) = tasks_app.get("/api/tasks", headers=login(bob)).json["results"]
    assert (task["name"], [p["username"] for p in task["performers"]]) == ("Fix the roof", ["bob"])
    assert mailbox.recipients() == [["bob@example.com"]]


def test_a_refused_task_shows_the_api_messages_beside_each_field(console, make_user, login, tasks_app):
    alice = make_user("alice")
    make_user("bob")
    browser = console(alice)
    yesterday = _due(-1)
    page = browser.post(
        "/console/tasks/new", {"name": "", "due_date": yesterday, "performer_usernames": ""}, status=422
    )
    assert _field_error(page, "name") == "Field required"
    assert _field_error(page, "due_date") == "Must not be in the past"
    assert "at least one performer" in _field_error(page, "performer_usernames")
    fields = {"name": "Ghosts", "due_date": _due(), "performer_usernames": "bob, nobody, ghost"}
    page = browser.post("/console/tasks/new", fields, status=422)
    assert _field_error(page, "performer_usernames") == "No such active user(s): nobody, ghost"
    assert page.html.find(id="field-performer_usernames")["value"] == "bob, nobody, ghost"  # kept for correcting
    assert tasks_app.get("/api/tasks", headers=login(alice)).json["count"] == 0


def test_a_duplicate_name_is_shown_beside_the_name(console, create_task, make_user, login):
    alice = make_user("alice")
    create_task(login(alice), [alice], name="Taken")
    fields = {"name": "Taken", "due_date": _due(), "performer_usernames": "alice"}
    page = console(alice).post("/console/tasks/new", fields, status=409)
    assert _field_error(page, "name") == "Already taken"


def test_a_form_without_its_csrf_token_changes_nothing(console, make_user, login, tasks_app):
    alice = make_user("alice")
    fields = {"name": "Forged", "due_date": _due(), "performer_usernames": "alice"}
    console(alice).post("/console/tasks/new", fields, csrf=False, status=403)
    assert tasks_app.get("/api/tasks", headers=login(alice)).json["count"] == 0


# -- one task -----------------------------------------------------------------


def test_the_task_page_shows_comments_newest_first_to_its_people_only(
    console, create_task, make_user, login, tasks_app
):
    alice, bob, stranger = make_user("alice"), make_user("bob"), make_user("stranger")
    task = create_task(login(alice), [bob])
    for user, text in [(alice, "first"), (bob, "second")]:
        tasks_app.post_json(f"/api/tasks/{task['id']}/comments", {"text": text}, headers=login(user))
    page = console(bob).get(f"/console/tasks/{task['id']}")
    assert [p.text for p in page.html.select("article.tasks-comment p")] == ["second", "first"]
    assert "Delegate" in page.text and "Delete this task" not in page.text  # bob performs, alice created it
    assert "neither yours nor one you perform" in console(stranger).get(f"/console/tasks/{task['id']}", status=403).text
    assert "No such task" in console(stranger).get("/console/tasks/4242", status=404).text


def test_commenting_from_the_task_page(console, create_task, make_user, login, tasks_app, mailbox):
    alice, bob, stranger = make_user("alice"), make_user("bob"), make_user("stranger")
    task = create_task(login(alice), [bob])
    url = f"/console/tasks/{task['id']}"
    browser = console(bob)
    done = browser.post(f"{url}/comments", {"text": "On my way."}, status=303)
    assert "On my way." in browser.get(done.location).text
    assert mailbox.subjects()[-1] == 'New comment on "Fix the roof" by bob'
    refused = browser.post(f"{url}/comments", {"text": "   "}, status=422)
    assert _field_error(refused, "text")
    browser.post(f"{url}/comments", {"text": "forged"}, csrf=False, status=403)
    console(stranger).post(f"{url}/comments", {"text": "hi"}, status=403)
    comments = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["comments"]
    assert [c["text"] for c in comments] == ["On my way."]


def test_editing_a_task_as_performer_and_as_creator(console, create_task, make_user, login, tasks_app):
    alice, bob, stranger = make_user("alice"), make_user("bob"), make_user("stranger")
    make_user("carol")
    task = create_task(login(alice), [bob])
    url = f"/console/tasks/{task['id']}/edit"
    performer = console(bob)
    form = performer.get(url).html.find("form", class_="tasks-form")
    assert form.find(id="field-performer_usernames").has_attr("disabled")  # only the creator changes them
    fields = {"name": "Fix the roof", "specification": "", "due_date": task["due_date"], "status": "in_work"}
    performer.post(url, fields, status=303)
    changed = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json
    assert (changed["status"], changed["specification"]) == ("in_work", "")
    # Sent anyway, a performer's change of performers is refused as the API refuses it.
    assert "only the creator" in performer.post(url, {**fields, "performer_usernames": "carol"}, status=403).text

    creator = console(alice)
    assert not creator.get(url).html.find(id="field-performer_usernames").has_attr("disabled")
    creator.post(url, {**fields, "performer_usernames": "bob, carol"}, status=303)
    changed = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json
    assert [p["username"] for p in changed["performers"]] == ["bob", "carol"]
    page = creator.post(url, {**fields, "due_date": _due(-3)}, status=422)
    assert _field_error(page, "due_date") == "Must not be in the past"
    creator.post(url, fields, csrf=False, status=403)
    console(stranger).get(url, status=403)


def test_an_overdue_task_can_still_be_completed(console, create_task, make_user, login, tasks_app, db):
    from pyramidion_tasks.models import Task

    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    overdue = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    db.get(Task, task["id"]).due_date = overdue
    db.commit()
    url = f"/console/tasks/{task['id']}/edit"
    browser = console(alice)
    form = browser.get(url).html.find("form", class_="tasks-form")
    fields = {
        "name": form.find(id="field-name")["value"],
        "due_date": form.find(id="field-due_date")["value"],
        "performer_usernames": form.find(id="field-performer_usernames")["value"],
        "specification": form.find(id="field-specification").text,
        "status": "completed",
    }
    browser.post(url, fields, status=303)
    assert tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["status"] == "completed"


def test_delegating_by_username(console, create_task, make_user, login, tasks_app):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    task = create_task(login(alice), [bob])
    url = f"/console/tasks/{task['id']}/delegate"
    assert "Hand your part to" not in console(alice).get(f"/console/tasks/{task['id']}").text
    console(alice).post(url, {"username": "carol"}, status=403)  # the creator performs nothing
    performer = console(bob)
    refused = performer.post(url, {"username": "nobody"}, status=422)
    assert _field_error(refused, "username") == "No such active user(s): nobody"
    performer.post(url, {"username": "carol"}, csrf=False, status=403)
    done = performer.post(url, {"username": "carol"}, status=303)
    assert done.location.endswith("/console/tasks/")  # no longer bob's task
    assert "Your part of “Fix the roof” went to carol" in performer.get(done.location).text
    delegated = tasks_app.get(f"/api/tasks/{task['id']}", headers=login(carol)).json
    assert ([p["username"] for p in delegated["performers"]], delegated["delegated"]) == (["carol"], True)


def test_deleting_by_the_creator_only(console, create_task, make_user, login, tasks_app):
    alice, bob = make_user("alice"), make_user("bob")
    task = create_task(login(alice), [bob])
    url = f"/console/tasks/{task['id']}/delete"
    console(bob).post(url, status=403)
    console(alice).post(url, csrf=False, status=403)
    assert console(alice).post(url, status=303).location.endswith("/console/tasks/")
    tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice), status=404)


# -- attachments --------------------------------------------------------------


def test_attachments_up_and_down_from_the_task_page(console, create_task, make_user, login, tasks_app):
    alice, bob, boss = make_user("alice"), make_user("bob"), make_user("boss", permissions=["tasks.view_all"])
    task = create_task(login(alice), [bob])
    page_url = f"/console/tasks/{task['id']}"
    browser = console(bob)
    upload = browser.get(page_url).html.find("form", enctype="multipart/form-data")
    assert upload.find("input", type="file")["name"] == "file"
    done = browser.app.post(
        f"{page_url}/attachments",
        {"csrf_token": browser.csrf},
        upload_files=[("file", "plan.txt", b"bring a ladder", "text/plain")],
        status=303,
    )
    page = browser.get(done.location)
    link = page.html.find("ul", class_="tasks-attachments").find("a")
    assert link.text == "plan.txt"
    download = browser.get(link["href"])  # the API's own download, with the console's cookie
    assert (download.body, download.headers["Content-Disposition"]) == (
        b"bring a ladder",
        "attachment; filename*=UTF-8''plan.txt",
    )

    refused = browser.app.post(
        f"{page_url}/attachments",
        {"csrf_token": browser.csrf},
        upload_files=[("file", "run.sh", b"rm -rf /", "application/x-sh")],
        status=415,
    )
    assert "application/x-sh is not allowed" in _field_error(refused, "file")
    browser.app.post(
        f"{page_url}/attachments", upload_files=[("file", "x.txt", b"x", "text/plain")], status=403
    )  # no CSRF token
    supervisor = console(boss)  # may read, not change
    assert "Attach a file" not in supervisor.get(page_url).text
    supervisor.app.post(
        f"{page_url}/attachments",
        {"csrf_token": supervisor.csrf},
        upload_files=[("file", "x.txt", b"x", "text/plain")],
        status=403,
    )
    assert len(tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["attachments"]) == 1

    remove = page.html.find("ul", class_="tasks-attachments").find("form")["action"]
    supervisor.post(remove, status=403)
    browser.post(remove, csrf=False, status=403)
    browser.post(remove, status=303)
    assert tasks_app.get(f"/api/tasks/{task['id']}", headers=login(alice)).json["attachments"] == []


def test_pages_carry_no_inline_script(console, create_task, make_user, login):
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    browser = console(alice)
    for url in [
        "/console/tasks/",
        "/console/tasks/new",
        f"/console/tasks/{task['id']}",
        f"/console/tasks/{task['id']}/edit",
    ]:
        page = browser.get(url)
        assert all(script.get("src") for script in page.html.find_all("script")), url
        assert not re.search(r"\son[a-z]+=", page.text), url


def test_console_uploads_take_the_attachment_limit_not_the_api_default(
    make_app, tasks_settings, create_task, make_user, login
):
    app = make_app(**{**tasks_settings, "tasks__attachments__max_size": str(2 * 1024 * 1024)})
    alice = make_user("alice")
    task = create_task(login(alice), [alice])
    browser = Browser(app, "alice")
    big = b"x" * (1024 * 1024 + 512 * 1024)  # over api.max_body_size (1 MiB), under the attachment limit
    url = f"/console/tasks/{task['id']}/attachments"
    done = browser.app.post(url, {"csrf_token": browser.csrf}, upload_files=[("file", "big.txt", big, "text/plain")])
    assert done.status_int == 303 and "big.txt attached" in browser.get(done.location).text
