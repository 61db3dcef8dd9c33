"""The robots REST API: registering, sharing, join tokens, commands and position history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pyramidion.db import utcnow
from pyramidion_robots.models import Command, Frame, Robot


def test_a_manager_registers_a_robot_and_sees_its_secret_once(
    app, register_robot, as_manager, as_operator, db, operator
):
    robot = register_robot("UR-1", name="Rover")

    assert robot["serial"] == "UR-1" and robot["name"] == "Rover"
    assert {key: robot["owner"][key] for key in ("id", "username")} == {"id": operator.id, "username": "operator"}
    assert robot["connected"] is False
    assert len(robot["secret"]) >= 40
    stored = db.scalar(select(Robot).where(Robot.serial == "UR-1"))
    assert robot["secret"] not in stored.secret_hash  # only a hash is kept
    shown_again = app.get(f"/api/robots/{robot['id']}", headers=as_operator).json
    assert "secret" not in shown_again


def test_registering_needs_the_permission_and_a_free_serial(app, register_robot, as_manager, as_operator):
    register_robot("UR-1")
    app.post_json("/api/robots", {"serial": "UR-2"}, headers=as_operator, status=403)
    taken = app.post_json("/api/robots", {"serial": "UR-1"}, headers=as_manager, status=409).json
    assert taken["error"]["details"][0]["field"] == "serial"
    invalid = app.post_json("/api/robots", {"serial": "", "owner_id": 999999}, headers=as_manager, status=422).json
    assert {detail["field"] for detail in invalid["error"]["details"]} == {"serial"}
    app.post_json("/api/robots", {"serial": "UR-3", "owner_id": 999999}, headers=as_manager, status=422)
    app.post_json("/api/robots", {"serial": "UR-4"}, status=401)


def test_users_see_only_their_robots(app, register_robot, make_user, login, as_operator, as_manager):
    mine = register_robot("UR-1")
    stranger = make_user("stranger")
    theirs = register_robot("UR-2", owner_id=stranger.id)

    assert [r["serial"] for r in app.get("/api/robots", headers=as_operator).json["results"]] == ["UR-1"]
    assert [r["serial"] for r in app.get("/api/robots/mine", headers=as_operator).json["results"]] == ["UR-1"]
    assert [r["serial"] for r in app.get("/api/robots", headers=as_manager).json["results"]] == ["UR-1", "UR-2"]
    app.get(f"/api/robots/{theirs['id']}", headers=as_operator, status=403)
    app.get("/api/robots/999999", headers=as_operator, status=404)
    me = app.get("/api/auth/me", headers=as_operator).json
    assert me["robots"] == [{"id": mine["id"], "serial": "UR-1", "name": "", "connected": False}]
    assert app.get("/api/auth/me", headers=login(stranger)).json["robots"][0]["serial"] == "UR-2"


def test_the_owner_shares_a_robot_and_takes_it_back(app, register_robot, make_user, login, as_operator):
    robot = register_robot("UR-1")
    friend = make_user("friend")
    as_friend = login(friend)
    app.get(f"/api/robots/{robot['id']}", headers=as_friend, status=403)

    app.post_json(f"/api/robots/{robot['id']}/shares", {"user_id": friend.id}, headers=as_operator, status=201)
    app.post_json(f"/api/robots/{robot['id']}/shares", {"user_id": friend.id}, headers=as_operator, status=409)
    assert app.get(f"/api/robots/{robot['id']}", headers=as_friend).json["serial"] == "UR-1"
    assert [u["username"] for u in app.get(f"/api/robots/{robot['id']}/shares", headers=as_friend).json] == ["friend"]
    # A user it is shared with may use it, but not hand it on.
    app.post_json(
        f"/api/robots/{robot['id']}/shares", {"user_id": make_user("other").id}, headers=as_friend, status=403
    )

    app.delete(f"/api/robots/{robot['id']}/shares/{friend.id}", headers=as_operator, status=204)
    app.get(f"/api/robots/{robot['id']}", headers=as_friend, status=403)
    app.delete(f"/api/robots/{robot['id']}/shares/{friend.id}", headers=as_operator, status=404)


def test_a_token_for_the_right_serial_and_secret_only(app, register_robot):
    robot = register_robot("UR-1")

    token = app.post_json("/api/robots/token", {"serial": "UR-1", "secret": robot["secret"]}).json
    assert len(token["token"]) >= 40 and token["expires_in"] == 30
    assert token["url"].endswith("/ws") and token["realm"] == "pyramidion"
    wrong_secret = app.post_json("/api/robots/token", {"serial": "UR-1", "secret": "guess"}, status=401).json
    wrong_serial = app.post_json("/api/robots/token", {"serial": "UR-9", "secret": robot["secret"]}, status=401).json
    # Neither answer tells which part was wrong.
    assert wrong_secret == wrong_serial


def test_refused_token_requests_are_rate_limited(make_app, register_robot):
    app = make_app(robots__token_max_failures="3")
    robot = register_robot("UR-1")
    for _ in range(3):
        app.post_json("/api/robots/token", {"serial": "UR-1", "secret": "guess"}, status=401)

    limited = app.post_json("/api/robots/token", {"serial": "UR-1", "secret": robot["secret"]}, status=429)
    assert int(limited.headers["Retry-After"]) > 0


def test_rotating_the_secret_retires_the_old_one(app, register_robot, as_operator, make_user, login):
    robot = register_robot("UR-1")
    app.post(f"/api/robots/{robot['id']}/secret", headers=login(make_user("stranger")), status=403)

    new = app.post(f"/api/robots/{robot['id']}/secret", headers=as_operator).json["secret"]

    assert new != robot["secret"]
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": robot["secret"]}, status=401)
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": new}, status=200)


def test_commands_are_stored_queued_and_readable_by_those_who_may(
    app, register_robot, as_operator, make_user, login, db
):
    robot = register_robot("UR-1")
    url = f"/api/robots/{robot['id']}/commands"

    sent = app.post_json(url, {"command": "auto"}, headers=as_operator, status=201).json
    assert sent["command"] == "auto" and sent["status"] == "queued" and sent["sent_by"]["username"] == "operator"
    app.post_json(url, {"command": "fly"}, headers=as_operator, status=422)
    app.post_json(url, {"command": "idle"}, headers=login(make_user("stranger")), status=403)
    app.post_json("/api/robots/999999/commands", {"command": "idle"}, headers=as_operator, status=404)

    # A command nobody confirmed in time reads as expired.
    db.get(Command, sent["id"]).expires_at = utcnow() - dt.timedelta(seconds=1)
    db.commit()
    app.post_json(url, {"command": "idle"}, headers=as_operator, status=201)
    history = app.get(url, headers=as_operator).json
    assert [(c["command"], c["status"]) for c in history["results"]] == [("idle", "queued"), ("auto", "expired")]


def test_position_history_is_paginated_and_bounded_in_time(app, register_robot, as_operator, db):
    robot = register_robot("UR-1")
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    for n in range(5):
        db.add(
            Frame(
                robot_id=robot["id"],
                frame_id=n,
                type=1,
                state="auto",
                timestamp=start + dt.timedelta(seconds=n),
                received_at=utcnow(),
                speed=0.5,
                position_x=float(n),
                position_y=0.0,
                angle_theta=0.0,
            )
        )
    db.add(
        Frame(
            robot_id=robot["id"],
            frame_id=99,
            type=3,
            state="auto",
            timestamp=start,
            received_at=utcnow(),
            data={"battery": 0.9},
        )
    )
    db.commit()
    url = f"/api/robots/{robot['id']}/positions"

    page = app.get(url, {"limit": 2}, headers=as_operator).json
    assert page["count"] == 5 and [p["frame_id"] for p in page["results"]] == [4, 3]
    assert page["results"][0]["timestamp"] == "2026-01-01T12:00:04Z"
    ranged = app.get(
        url,
        {"since": "2026-01-01T12:00:01Z", "until": "2026-01-01T13:00:03+01:00", "ordering": "timestamp"},
        headers=as_operator,
    ).json
    assert [p["frame_id"] for p in ranged["results"]] == [1, 2, 3]
    app.get(url, {"since": "yesterday"}, headers=as_operator, status=422)


def test_refused_token_requests_do_not_count_against_logins(app, make_user):
    """Robots and people share the core's throttle, each in a scope of its own."""
    for _ in range(12):
        app.post_json("/api/robots/token", {"serial": "nobody", "secret": "wrong"}, status=(401, 429))
    make_user("alice")
    assert app.post_json("/api/auth/token", {"username": "alice", "password": "password123"}).status_int == 200


def test_a_secret_can_be_typed_on_a_command_line():
    """``robot-sim --secret X`` must never see X as an option: no secret begins with "-"."""
    from pyramidion_robots.services import new_secret

    secrets = [new_secret()[0] for _ in range(200)]
    assert not any(secret.startswith("-") for secret in secrets)
    assert len(set(secrets)) == 200 and min(map(len, secrets)) >= 64


def test_wrong_secrets_for_one_serial_lock_out_only_that_serial_from_that_address(make_app, register_robot):
    """Robots behind one address (a factory's NAT) are not locked out by one robot's wrong secrets."""
    app = make_app(robots__token_max_failures="3")
    guessed, neighbour = register_robot("UR-1"), register_robot("UR-2")
    here, elsewhere = {"REMOTE_ADDR": "10.0.0.7"}, {"REMOTE_ADDR": "10.0.0.8"}
    for _ in range(3):
        app.post_json("/api/robots/token", {"serial": "UR-1", "secret": "guess"}, extra_environ=here, status=401)

    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": guessed["secret"]}, extra_environ=here, status=429)
    app.post_json("/api/robots/token", {"serial": "UR-2", "secret": neighbour["secret"]}, extra_environ=here)
    app.post_json("/api/robots/token", {"serial": "UR-1", "secret": guessed["secret"]}, extra_environ=elsewhere)


def test_my_robots_is_a_page(app, register_robot, as_operator, as_manager, make_user):
    for n in range(3):
        register_robot(f"UR-{n}")
    register_robot("UR-X", owner_id=make_user("stranger").id)

    page = app.get("/api/robots/mine", {"limit": 2}, headers=as_operator).json
    assert page["count"] == 3 and [r["serial"] for r in page["results"]] == ["UR-0", "UR-1"]
    assert page["previous"] is None and "offset=2" in page["next"]
    rest = app.get(page["next"], headers=as_operator).json
    assert [r["serial"] for r in rest["results"]] == ["UR-2"] and rest["next"] is None
    # A manager sees every robot in the list, but "mine" are only their own: none here.
    assert app.get("/api/robots/mine", headers=as_manager).json["count"] == 0
    app.get("/api/robots/mine", {"owner_id": 1}, headers=as_operator, status=422)


def test_secrets_and_tokens_are_never_cached(app, register_robot, as_operator, as_manager):
    robot = register_robot("UR-1")
    registered = app.post_json("/api/robots", {"serial": "UR-2"}, headers=as_manager, status=201)
    assert registered.headers["Cache-Control"] == "no-store"
    rotated = app.post(f"/api/robots/{robot['id']}/secret", headers=as_operator)
    assert rotated.headers["Cache-Control"] == "no-store"
    token = app.post_json("/api/robots/token", {"serial": "UR-1", "secret": rotated.json["secret"]})
    assert token.headers["Cache-Control"] == "no-store"


def test_unknown_fields_are_refused_and_change_nothing(app, register_robot, as_manager, as_operator, make_user, db):
    robot = register_robot("UR-1", name="Rover")
    url = f"/api/robots/{robot['id']}"
    bodies = [
        ("post", "/api/robots", {"serial": "UR-2", "colour": "red"}, as_manager),
        ("patch", url, {"name": "Renamed", "colour": "red"}, as_manager),
        ("post", f"{url}/shares", {"user_id": make_user("friend").id, "role": "admin"}, as_operator),
        ("post", f"{url}/commands", {"command": "auto", "urgent": True}, as_operator),
        ("post", "/api/robots/token", {"serial": "UR-1", "secret": robot["secret"], "scope": "all"}, {}),
    ]
    for method, path, body, headers in bodies:
        refused = getattr(app, f"{method}_json")(path, body, headers=headers, status=422).json
        assert refused["error"]["details"], (path, refused)
    assert app.get(url, headers=as_operator).json["name"] == "Rover"
    assert app.get("/api/robots", headers=as_manager).json["count"] == 1
    assert app.get(f"{url}/shares", headers=as_operator).json == []
    assert app.get(f"{url}/commands", headers=as_operator).json["count"] == 0


def test_a_patch_changes_only_what_it_names(app, register_robot, as_manager):
    robot = register_robot("UR-1", name="Rover")
    url = f"/api/robots/{robot['id']}"
    assert app.patch_json(url, {}, headers=as_manager).json["name"] == "Rover"
    app.patch_json(url, {"name": None}, headers=as_manager, status=422)
    assert app.patch_json(url, {"name": "Rover two"}, headers=as_manager).json["name"] == "Rover two"


def test_the_owner_shares_by_username(app, register_robot, make_user, login, as_operator):
    robot = register_robot("UR-1")
    friend = make_user("friend")
    shares = f"/api/robots/{robot['id']}/shares"

    shared = app.post_json(shares, {"username": "friend"}, headers=as_operator, status=201).json
    assert shared["id"] == friend.id
    assert app.get(f"/api/robots/{robot['id']}", headers=login(friend)).json["serial"] == "UR-1"
    unknown = app.post_json(shares, {"username": "nobody"}, headers=as_operator, status=422).json
    assert unknown["error"]["details"][0]["field"] == "username"
    app.post_json(shares, {"username": "Friend"}, headers=as_operator, status=409)  # the same person
    app.post_json(shares, {"username": "friend", "user_id": friend.id}, headers=as_operator, status=422)
    app.post_json(shares, {}, headers=as_operator, status=422)


def test_the_public_index_names_what_robots_offer(app):
    robots = app.get("/api/").json["plugins"]["robots"]
    assert robots["url"] == "/api/robots" and "WAMP" in robots["description"]
    app.get(robots["url"], status=401)  # public index, protected data
