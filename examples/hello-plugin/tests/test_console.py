"""The hello console page: WebTest through the console's login, as the console's guide asks."""

from __future__ import annotations


def test_the_page_lists_greetings_and_greets(app, make_user, console_session):
    ann = make_user("ann")
    token = console_session(ann)
    page = app.get("/console/hello/")
    assert "No greetings yet." in page.text
    sent = app.post("/console/hello/", {"name": "world", "csrf_token": token}, status=303)
    shown = sent.follow()
    assert "world greeted" in shown.text
    assert "<td>world</td>" in shown.text


def test_an_empty_name_is_shown_beside_the_field(app, make_user, console_session):
    token = console_session(make_user("ann"))
    refused = app.post("/console/hello/", {"name": "", "csrf_token": token}, status=422)
    assert 'aria-invalid="true"' in refused.text


def test_anonymous_visitors_are_sent_to_the_login(app):
    answer = app.get("/console/hello/", status=302)
    assert "/console/login" in answer.headers["Location"]


def test_a_post_without_the_csrf_token_changes_nothing(app, make_user, console_session):
    console_session(make_user("ann"))
    app.post("/console/hello/", {"name": "forged"}, status=403)
    assert "forged" not in app.get("/console/hello/").text
