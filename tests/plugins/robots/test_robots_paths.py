"""Every path the robots README shows answers as written (no 404 or 405 for a path that should be there)."""

from __future__ import annotations

import re
from pathlib import Path

import pyramidion_robots

README = Path(pyramidion_robots.__file__).parent / "README.md"
DOCUMENTED = re.compile(r"`(GET|POST|PATCH|DELETE) (/api/robots[^`\s]*)`")
CONSOLE_PAGES = re.compile(r"`(/console/robots/[^`\s]*)`")


def documented_paths() -> list[tuple[str, str]]:
    text = README.read_text()
    found = DOCUMENTED.findall(text) + [("GET", path) for path in CONSOLE_PAGES.findall(text)]
    return list(dict.fromkeys(found))


def test_the_readme_documents_the_api_and_the_pages():
    paths = documented_paths()
    assert ("GET", "/api/robots/mine") in paths and ("POST", "/api/robots/token") in paths
    assert ("GET", "/api/robots/") in paths  # the form the first README showed, which answered 404
    assert ("GET", "/console/robots/") in paths and ("GET", "/console/robots/{id}") in paths
    assert len(paths) >= 15


def test_every_documented_path_answers(app, register_robot, operator, make_user, login, console_session):
    robot = register_robot("UR-1")
    friend = make_user("friend")
    as_operator = login(operator)
    app.post_json(f"/api/robots/{robot['id']}/shares", {"user_id": friend.id}, headers=as_operator, status=201)
    csrf = console_session(make_user("boss", permissions=["robots.manage"]))  # the cookie works on the API too
    answers = {}
    # Deleting the robot last, so every other path still has it.
    for method, path in sorted(documented_paths(), key=lambda item: item == ("DELETE", "/api/robots/{id}")):
        url = path.format(id=robot["id"], user_id=friend.id)
        if method == "DELETE" and "shares" not in url:
            # A manager deletes; every other path is asked by the robot's owner or the robot.
            response = app.delete(url, headers={"X-CSRF-Token": csrf}, expect_errors=True)
        elif path.startswith("/console/"):
            response = app.get(url, expect_errors=True)
        else:
            response = app.request(url, method=method, headers=as_operator, expect_errors=True)
        answers[(method, path)] = response.status_int
    unanswered = {key: status for key, status in answers.items() if status in (404, 405)}
    assert not unanswered, f"documented but not answering as written: {unanswered}"


def test_the_list_answers_with_or_without_the_trailing_slash(app, register_robot, as_operator):
    register_robot("UR-1")
    with_slash = app.get("/api/robots/", headers=as_operator).json
    assert with_slash == app.get("/api/robots", headers=as_operator).json
    assert [robot["serial"] for robot in with_slash["results"]] == ["UR-1"]
