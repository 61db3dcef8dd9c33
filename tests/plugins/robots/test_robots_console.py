"""The robots' console pages with WebTest: what each shows, who may open it, and forms refused without CSRF."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from pyramidion.db import utcnow
from pyramidion_robots.models import Command, Frame, Robot, Share


@pytest.fixture
def robot(register_robot):
    return register_robot("UR-1", name="Rover")


def robot_page(robot) -> str:
    return f"/console/robots/{robot['id']}"


def add_positions(db, robot, points) -> None:
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    for n, (x, y) in enumerate(points):
        db.add(
            Frame(
                robot_id=robot["id"],
                frame_id=n,
                type=1,
                state="auto",
                timestamp=start + dt.timedelta(seconds=n),
                received_at=utcnow(),
                speed=0.5,
                position_x=x,
                position_y=y,
                angle_theta=0.0,
            )
        )
    db.commit()


PAGES = ["/console/robots/", "/console/robots/{id}"]
FORMS = [
    ("/console/robots/", {"serial": "UR-9"}),
    ("/console/robots/{id}/commands", {"command": "auto"}),
    ("/console/robots/{id}/shares", {"username": "friend"}),
    ("/console/robots/{id}/secret", {}),
    ("/console/robots/{id}/name", {"name": "Renamed"}),
    ("/console/robots/{id}/delete", {}),
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login(app, robot, path):
    page = app.get(path.format(id=robot["id"]), status=302)
    assert "/console/login" in page.location


@pytest.mark.parametrize(("path", "fields"), FORMS)
def test_anonymous_forms_are_sent_to_the_login_and_change_nothing(app, robot, db, path, fields):
    before = robot_count(db)
    page = app.post(path.format(id=robot["id"]), fields, headers={"Origin": "http://localhost"}, status=302)
    assert "/console/login" in page.location
    assert robot_count(db) == before


def test_the_fleet_shows_the_users_robots_with_connection_and_last_position(
    app, register_robot, operator, make_user, console_session, db
):
    mine = register_robot("UR-1", name="Rover")
    register_robot("UR-2", owner_id=make_user("stranger").id)
    add_positions(db, mine, [(0.0, 0.0), (1.25, -2.5)])
    console_session(operator)

    fleet = app.get("/console/robots/")

    assert fleet.status_int == 200 and fleet.headers["Cache-Control"] == "no-store"
    rows = fleet.html.select("tr[data-robot-id]")
    assert [row.th.get_text(strip=True) for row in rows] == ["UR-1"]  # not the stranger's robot
    assert rows[0]["data-topic"] == f"pyramidion.robots.robot.{mine['id']}.status"
    assert rows[0].select_one("[data-connection]").get_text(strip=True) == "disconnected"
    assert rows[0].select_one("[data-position]").get_text(strip=True).startswith("(1.25, -2.50)")
    assert fleet.html.find("a", string="Robots") is not None  # the menu entry
    assert "Register a robot" not in fleet.text  # managers only
    assert "UR-1" in app.get("/console/robots/", {"search": "rov"}).text
    assert "No robot matches" in app.get("/console/robots/", {"search": "nothing"}).text


def test_the_fleet_pages_and_filters_as_the_api_does(app, register_robot, operator, console_session):
    for n in range(3):
        register_robot(f"UR-{n}")
    console_session(operator)

    first = app.get("/console/robots/", {"limit": 2})
    assert [row.th.get_text(strip=True) for row in first.html.select("tr[data-robot-id]")] == ["UR-0", "UR-1"]
    assert "3 robots" in first.html.select_one("nav.pages").get_text()
    second = app.get(first.html.select_one("a[rel=next]")["href"])
    assert [row.th.get_text(strip=True) for row in second.html.select("tr[data-robot-id]")] == ["UR-2"]
    assert second.html.select_one("a[rel=prev]") is not None
    assert not app.get("/console/robots/", {"connected": "true"}).html.select("tr[data-robot-id]")
    refused = app.get("/console/robots/", {"colour": "red"}, status=422)
    assert "colour" in refused.text


def test_a_manager_registers_a_robot_and_sees_its_secret_once(app, manager, console_session, db):
    csrf = console_session(manager)

    shown = app.post("/console/robots/", {"serial": "UR-7", "name": "Seven", "csrf_token": csrf})

    assert shown.status_int == 200 and shown.headers["Cache-Control"] == "no-store"
    secret = shown.html.select_one("[data-secret]").get_text(strip=True)
    robot = db.scalar(select(Robot).where(Robot.serial == "UR-7"))
    assert robot.owner.username == "manager" and robot.name == "Seven"
    assert len(secret) == 64 and secret not in robot.secret_hash
    assert app.post_json("/api/robots/token", {"serial": "UR-7", "secret": secret}).status_int == 200
    assert secret not in app.get(f"/console/robots/{robot.id}").text  # never again

    taken = app.post("/console/robots/", {"serial": "UR-7", "csrf_token": csrf}, status=409)
    assert "already" in taken.html.select_one("#field-serial-error").get_text().lower()
    invalid = app.post("/console/robots/", {"serial": "no spaces", "csrf_token": csrf}, status=422)
    assert invalid.html.select_one("#field-serial-error") is not None
    assert db.scalar(select(Robot).where(Robot.serial == "no spaces")) is None


def test_registering_from_the_console_needs_the_permission(app, operator, console_session, db):
    csrf = console_session(operator)
    app.post("/console/robots/", {"serial": "UR-7", "csrf_token": csrf}, status=403)
    assert db.scalar(select(Robot).where(Robot.serial == "UR-7")) is None


def test_a_robots_page_draws_its_trail_and_lists_its_commands(app, robot, operator, console_session, db):
    add_positions(db, robot, [(0.0, 0.0), (1.0, 0.0), (1.0, 2.0)])
    db.add(
        Command(robot_id=robot["id"], command="idle", sent_by_id=operator.id, expires_at=utcnow() + dt.timedelta(60))
    )
    db.commit()
    console_session(operator)

    page = app.get(robot_page(robot))

    assert page.status_int == 200
    assert page.html.h1.get_text(" ", strip=True) == "Robot UR-1 Rover"
    trail = page.html.select_one("svg[data-trail]")
    assert trail.polyline["points"] == "0,0 1,0 1,-2"  # y points up
    newest, oldest = trail.select_one("circle.trail-marker"), trail.select_one("circle.trail-start")
    assert (newest["cx"], newest["cy"], oldest["cx"], oldest["cy"]) == ("1", "-2", "0", "0")
    caption = page.html.select_one("[data-trail-caption]").get_text()
    assert "x 0.00 to 1.00 m, y 0.00 to 2.00 m" in caption
    assert json.loads(trail["data-points"]) == [[0, 0], [1, 0], [1, 2]]  # where the script goes on from
    x, y, width, height = map(float, trail["viewbox"].split())  # the HTML parser lowers attribute names
    assert x < 0 and y < -2 and x + width > 1 and y + height > 0  # every point inside
    buttons = [b.get_text(strip=True) for b in page.html.select(".command-buttons button")]
    assert buttons == ["auto", "idle", "error", "manual"]
    statuses = [td.get_text(strip=True) for td in page.html.select("[data-command-status]")]
    assert statuses == ["queued"]


def test_a_command_button_sends_the_command_as_the_api_does(app, robot, operator, console_session, db):
    csrf = console_session(operator)

    sent = app.post(f"{robot_page(robot)}/commands", {"command": "manual", "csrf_token": csrf}, status=303)

    page = sent.follow()
    assert "Command manual sent to UR-1" in page.text
    assert [td.get_text(strip=True) for td in page.html.select("[data-command-status]")] == ["queued"]
    history = app.get(f"/api/robots/{robot['id']}/commands").json["results"]  # the cookie works on the API too
    assert [(c["command"], c["sent_by"]["username"]) for c in history] == [("manual", "operator")]
    app.post(f"{robot_page(robot)}/commands", {"command": "fly", "csrf_token": csrf}, status=422)
    assert len(app.get(f"/api/robots/{robot['id']}/commands").json["results"]) == 1


def test_the_owner_shares_by_username_and_stops_sharing(app, robot, operator, make_user, console_session, db):
    friend = make_user("friend")
    csrf = console_session(operator)

    shared = app.post(f"{robot_page(robot)}/shares", {"username": "friend", "csrf_token": csrf}, status=303).follow()
    assert "UR-1 is shared with friend" in shared.text
    assert [li.contents[0].strip() for li in shared.html.select("ul.shares li")] == ["friend"]
    unknown = app.post(f"{robot_page(robot)}/shares", {"username": "nobody", "csrf_token": csrf}, status=422)
    assert "No such user" in unknown.html.select_one("#field-username-error").get_text()

    app.post(f"{robot_page(robot)}/shares/{friend.id}/delete", {"csrf_token": csrf}, status=303)
    assert db.get(Share, (robot["id"], friend.id)) is None


def test_a_user_the_robot_is_shared_with_may_command_it_but_not_share_it(
    app, robot, operator, make_user, login, console_session
):
    friend = make_user("friend")
    app.post_json(f"/api/robots/{robot['id']}/shares", {"user_id": friend.id}, headers=login(operator), status=201)
    csrf = console_session(friend)

    page = app.get(robot_page(robot))
    assert "Share with (username)" not in page.text and "new secret" not in page.text
    app.post(f"{robot_page(robot)}/commands", {"command": "idle", "csrf_token": csrf}, status=303)
    app.post(f"{robot_page(robot)}/shares", {"username": "friend", "csrf_token": csrf}, status=403)
    app.post(f"{robot_page(robot)}/secret", {"csrf_token": csrf}, status=403)


def test_the_owner_gives_the_robot_a_new_secret_shown_once(app, robot, operator, console_session):
    csrf = console_session(operator)

    shown = app.post(f"{robot_page(robot)}/secret", {"csrf_token": csrf})

    secret = shown.html.select_one("[data-secret]").get_text(strip=True)
    assert secret != robot["secret"] and shown.headers["Cache-Control"] == "no-store"
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": robot["secret"]}, status=401)
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": secret}, status=200)


def test_a_robot_not_shared_with_the_user_is_forbidden(app, robot, make_user, console_session):
    csrf = console_session(make_user("stranger"))

    refused = app.get(robot_page(robot), status=403)
    assert "not shared with you" in refused.text
    for path, fields in FORMS[1:]:
        app.post(path.format(id=robot["id"]), {**fields, "csrf_token": csrf}, status=403)
    app.get("/console/robots/999999", status=404)


@pytest.mark.parametrize(("path", "fields"), FORMS)
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    app, robot, manager, console_session, db, path, fields
):
    console_session(manager)
    before = app.get(f"/api/robots/{robot['id']}/commands").json["count"], robot_count(db)

    app.post(path.format(id=robot["id"]), fields, status=403)

    assert (app.get(f"/api/robots/{robot['id']}/commands").json["count"], robot_count(db)) == before
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": robot["secret"]}, status=200)  # secret kept


def test_a_manager_renames_and_deletes_a_robot(app, robot, manager, operator, console_session, db, login):
    csrf = console_session(manager)
    page = app.get(robot_page(robot))
    assert page.html.select_one("#field-name")["value"] == "Rover"

    renamed = app.post(f"{robot_page(robot)}/name", {"name": "Rover two", "csrf_token": csrf}, status=303).follow()
    assert renamed.html.h1.get_text(" ", strip=True) == "Robot UR-1 Rover two"
    too_long = app.post(f"{robot_page(robot)}/name", {"name": "x" * 201, "csrf_token": csrf}, status=422)
    assert too_long.html.select_one("#field-name-error") is not None
    assert app.get(f"/api/robots/{robot['id']}").json["name"] == "Rover two"

    fleet = app.post(f"{robot_page(robot)}/delete", {"csrf_token": csrf}, status=303).follow()
    assert "UR-1 is deleted" in fleet.text and not fleet.html.select("tr[data-robot-id]")
    assert robot_count(db) == 0


def test_only_managers_rename_and_delete(app, robot, operator, console_session, db):
    csrf = console_session(operator)  # the owner, not a manager
    assert "Delete UR-1" not in app.get(robot_page(robot)).text
    app.post(f"{robot_page(robot)}/name", {"name": "Mine", "csrf_token": csrf}, status=403)
    app.post(f"{robot_page(robot)}/delete", {"csrf_token": csrf}, status=403)
    assert robot_count(db) == 1
    assert app.get(f"/api/robots/{robot['id']}").json["name"] == "Rover"


def robot_count(db) -> int:
    db.rollback()
    return len(db.scalars(select(Robot.id)).all())


def test_the_pages_load_their_scripts_from_files_only(app, robot, operator, console_session):
    console_session(operator)
    for path in PAGES:
        page = app.get(path.format(id=robot["id"]))
        scripts = page.html.find_all("script")
        assert scripts and all(script.get("src") for script in scripts)  # no inline script (CSP)
        assert not re.search(r"\son[a-z]+=", page.text)  # no inline handler
        assert any("robots.js" in script["src"] for script in scripts)
