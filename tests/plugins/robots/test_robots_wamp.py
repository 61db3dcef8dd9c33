"""Robots over WAMP: a real Crossbar router, the backend session, real Autobahn clients."""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest
from autobahn.wamp.exception import ApplicationError
from sqlalchemy import func, select

from pyramidion.realtime.backend import INVALID_TICKET
from pyramidion.testing import TIMEOUT, JoinRefused
from pyramidion_robots.models import Frame
from pyramidion_robots.realtime import (
    COMMAND_STATUS,
    FRAME,
    FRAMES,
    INVALID_FRAME,
    PENDING_COMMANDS,
    UNKNOWN_ROBOT,
    command_topic,
    status_topic,
)

pytestmark = [pytest.mark.router, pytest.mark.slow]


def position(frame_id: int, x: float = 1.0, state: str = "auto") -> dict:
    return {
        "id": frame_id,
        "type": 1,
        "state": state,
        "timestamp": "2026-01-31T12:00:00.250Z",
        "data": {"speed": 0.4, "position_x": x, "position_y": -2.0, "angle_theta": 0.79},
    }


def stored_frames(db, robot_id: int) -> int:
    db.rollback()  # a fresh snapshot
    return db.scalar(select(func.count()).select_from(Frame).where(Frame.robot_id == robot_id))


@pytest.fixture
def backend(start_backend):
    return start_backend()


def test_a_robot_joins_with_its_token_once(backend, register_robot, join_token, wamp_client):
    robot = register_robot("UR-1")
    token = join_token(robot)

    client = wamp_client(token)

    assert client.details.authrole == "robot"
    assert client.details.authid == f"robot:{robot['id']}"
    assert client.details.authextra["serial"] == "UR-1"
    with pytest.raises(JoinRefused) as refused:
        wamp_client(token)  # single use
    assert refused.value.reason == INVALID_TICKET


def test_frames_are_acknowledged_stored_once_and_bad_ones_refused(backend, register_robot, join_token, wamp_client, db):
    robot = register_robot("UR-1")
    client = wamp_client(join_token(robot))

    assert client.call(FRAME, position(1)) == {"status": "ok", "id": 1}
    assert client.call(FRAME, position(2, x=3.5)) == {"status": "ok", "id": 2}
    assert client.call(FRAME, position(2, x=3.5)) == {"status": "ok", "id": 2}  # a resend: acknowledged again
    geo = {
        "id": 3,
        "type": 2,
        "state": "auto",
        "timestamp": "2026-01-31T12:00:01Z",
        "data": {"latitude": 52.1, "longitude": 4.3},
    }
    assert client.call(FRAME, geo) == {"status": "ok", "id": 3}

    with pytest.raises(ApplicationError) as refused:
        client.call(FRAME, {**position(4), "data": {"speed": 1, "position_x": "far"}})
    assert refused.value.error == INVALID_FRAME
    problem = refused.value.args[0]
    assert "data.position_x" in problem and "data.position_y" in problem and "data.angle_theta" in problem
    with pytest.raises(ApplicationError) as refused:
        client.call(FRAME, "not a frame")
    assert refused.value.error == INVALID_FRAME

    # Still connected: the next frame goes through.
    assert client.call(FRAME, position(5)) == {"status": "ok", "id": 5}
    assert stored_frames(db, robot["id"]) == 4


def test_a_list_of_frames_gets_one_answer_per_frame(backend, register_robot, join_token, wamp_client, db):
    robot = register_robot("UR-1")
    client = wamp_client(join_token(robot))
    assert client.call(FRAME, position(1)) == {"status": "ok", "id": 1}

    answers = client.call(
        FRAMES,
        [
            position(1),  # sent before, its acknowledgement lost: acknowledged again
            position(2),
            {**position(3), "data": {"speed": 1}},
            position(4),
            position(4),  # twice in one list
            "not a frame",
        ],
    )

    assert answers[:2] == [{"status": "ok", "id": 1}, {"status": "ok", "id": 2}]
    assert answers[2]["status"] == "error" and answers[2]["id"] == 3 and answers[2]["error"] == INVALID_FRAME
    assert "data.position_x" in answers[2]["message"]
    assert answers[3:5] == [{"status": "ok", "id": 4}] * 2
    assert answers[5]["status"] == "error" and answers[5]["id"] is None and answers[5]["error"] == INVALID_FRAME
    assert stored_frames(db, robot["id"]) == 3  # 1, 2 and 4, once each

    for wrong in (position(5), [position(5)] * 501):  # not a list; more than robots.frame_batch_size
        with pytest.raises(ApplicationError) as refused:
            client.call(FRAMES, wrong)
        assert refused.value.error == INVALID_FRAME
    assert client.call(FRAMES, []) == []
    assert client.call(FRAMES, [position(5)]) == [{"status": "ok", "id": 5}]  # still connected
    assert stored_frames(db, robot["id"]) == 4


def test_commands_reach_the_addressed_robot_alone(
    backend, realtime_app, register_robot, join_token, wamp_client, as_operator
):
    app = realtime_app()
    first, second = register_robot("UR-1"), register_robot("UR-2")
    first_client, second_client = wamp_client(join_token(first)), wamp_client(join_token(second))
    first_commands = first_client.subscribe(command_topic(first["id"]))
    second_commands = second_client.subscribe(command_topic(second["id"]))
    with pytest.raises(ApplicationError):
        second_client.subscribe(command_topic(first["id"]))

    sent = app.post_json(
        f"/api/robots/{first['id']}/commands", {"command": "manual"}, headers=as_operator, status=201
    ).json
    app.post_json(f"/api/robots/{second['id']}/commands", {"command": "idle"}, headers=as_operator, status=201)

    (command,), _ = first_commands.get(timeout=TIMEOUT)
    assert command["id"] == sent["id"] and command["command"] == "manual"
    (command,), _ = second_commands.get(timeout=TIMEOUT)
    assert command["command"] == "idle"  # the first robot's command never reached it
    assert first_commands.empty()

    assert first_client.call(COMMAND_STATUS, sent["id"], "acknowledged") == {"id": sent["id"], "status": "acknowledged"}
    with pytest.raises(ApplicationError):
        second_client.call(COMMAND_STATUS, sent["id"], "acknowledged")  # not its command
    history = app.get(f"/api/robots/{first['id']}/commands", headers=as_operator).json["results"]
    assert [(c["command"], c["status"]) for c in history] == [("manual", "acknowledged")]
    assert history[0]["finished_at"] is not None


def test_commands_sent_while_the_robot_was_away_wait_for_it(
    backend, app, register_robot, join_token, wamp_client, as_operator
):
    robot = register_robot("UR-1")
    first = app.post_json(f"/api/robots/{robot['id']}/commands", {"command": "auto"}, headers=as_operator).json
    second = app.post_json(f"/api/robots/{robot['id']}/commands", {"command": "idle"}, headers=as_operator).json

    client = wamp_client(join_token(robot))
    pending = client.call(PENDING_COMMANDS)

    assert [(c["id"], c["command"]) for c in pending] == [(first["id"], "auto"), (second["id"], "idle")]
    client.call(COMMAND_STATUS, first["id"], "delivered")
    client.call(COMMAND_STATUS, first["id"], "acknowledged")
    client.call(COMMAND_STATUS, second["id"], "failed", "battery low")
    assert client.call(PENDING_COMMANDS) == []
    history = app.get(f"/api/robots/{robot['id']}/commands", headers=as_operator).json["results"]
    assert [(c["status"], c["message"]) for c in history] == [("failed", "battery low"), ("acknowledged", None)]


def test_commands_calls_with_unknown_arguments_are_refused(
    backend, app, register_robot, join_token, wamp_client, as_operator
):
    robot = register_robot("UR-1")
    sent = app.post_json(f"/api/robots/{robot['id']}/commands", {"command": "auto"}, headers=as_operator).json
    client = wamp_client(join_token(robot))

    for call in (
        lambda: client.call(PENDING_COMMANDS, "all"),
        lambda: client.call(COMMAND_STATUS, sent["id"], "delivered", urgent=True),
        lambda: client.call(COMMAND_STATUS, sent["id"], "delivered", None, "extra"),
        lambda: client.call(COMMAND_STATUS, sent["id"], "lost"),
    ):
        with pytest.raises(ApplicationError) as refused:
            call()
        assert refused.value.error.startswith("pyramidion.robots.invalid_")  # a clear refusal, not an internal error

    assert client.call(COMMAND_STATUS, command_id=sent["id"], status="delivered") == {
        "id": sent["id"],
        "status": "delivered",
    }
    history = app.get(f"/api/robots/{robot['id']}/commands", headers=as_operator).json["results"]
    assert [c["status"] for c in history] == ["delivered"]


def test_users_watch_the_status_of_their_robots_only(
    backend, register_robot, join_token, wamp_client, ticket, operator, make_user
):
    robot = register_robot("UR-1")
    stranger = make_user("stranger")
    watcher = wamp_client(ticket(operator))
    with pytest.raises(ApplicationError):
        wamp_client(ticket(stranger)).subscribe(status_topic(robot["id"]))
    status = watcher.subscribe(status_topic(robot["id"]))

    robot_client = wamp_client(join_token(robot))
    (event,), _ = status.get(timeout=TIMEOUT)
    assert event == {"robot_id": robot["id"], "connected": True}
    robot_client.call(FRAME, position(1, x=7.5, state="manual"))
    (event,), _ = status.get(timeout=TIMEOUT)
    assert event["frame"]["state"] == "manual" and event["frame"]["data"]["position_x"] == 7.5


def test_a_new_watcher_sees_the_newest_frame_at_once_and_every_later_one(
    backend, register_robot, join_token, wamp_client, watch
):
    robot = register_robot("UR-1")
    robot_client = wamp_client(join_token(robot))
    for frame_id in (1, 2, 3):  # nobody watches: nothing is published, the newest frame is kept
        robot_client.call(FRAME, position(frame_id, x=float(frame_id)))

    status = watch(robot)

    # The robot sends nothing more, and yet its new watcher sees where it is.
    assert next_frame(status)["data"]["position_x"] == 3.0
    robot_client.call(FRAME, position(4, x=4.0, state="manual"))
    frame = next_frame(status)
    assert (frame["id"], frame["state"], frame["data"]["position_x"]) == (4, "manual", 4.0)


def test_a_robot_that_drops_mid_stream_shows_as_disconnected(
    backend, app, register_robot, join_token, wamp_client, watch, as_operator, db
):
    robot = register_robot("UR-1")
    status = watch(robot)
    robot_client = wamp_client(join_token(robot))
    assert next_connection_event(status) is True
    assert app.get(f"/api/robots/{robot['id']}", headers=as_operator).json["connected"] is True
    for frame_id in range(1, 4):
        robot_client.call(FRAME, position(frame_id))

    robot_client.close()  # the connection drops, as when the robot loses power

    assert next_connection_event(status) is False
    assert app.get(f"/api/robots/{robot['id']}", headers=as_operator).json["connected"] is False
    assert stored_frames(db, robot["id"]) == 3  # every acknowledged frame is kept


def test_connection_state_is_right_after_the_router_restarts(
    router, backend, app, register_robot, join_token, wamp_client, watch, as_operator
):
    robot = register_robot("UR-1")
    status = watch(robot)
    wamp_client(join_token(robot))
    assert next_connection_event(status) is True

    router.restart()  # every session is gone, and nobody told the backend the robot left
    assert backend.session.joined.wait(TIMEOUT)
    assert app.get(f"/api/robots/{robot['id']}", headers=as_operator).json["connected"] is False

    status = watch(robot)
    wamp_client(join_token(robot))  # the robot comes back
    assert next_connection_event(status) is True
    assert app.get(f"/api/robots/{robot['id']}", headers=as_operator).json["connected"] is True


def test_connection_state_is_right_after_the_backend_restarts(
    start_backend, app, register_robot, join_token, wamp_client, watch, as_operator
):
    robot = register_robot("UR-1")
    crashing = start_backend()
    status = watch(robot)
    client = wamp_client(join_token(robot))
    assert next_connection_event(status) is True

    crashing.stop()  # the fixture stops it again at the end: that does nothing
    client.close()  # nobody hears the robot leave
    start_backend()  # joined when it returns

    assert app.get(f"/api/robots/{robot['id']}", headers=as_operator).json["connected"] is False
    # The watcher, subscribed all along, hears that the robot went while the backend was away.
    assert next_connection_event(status) is False


def test_a_robot_deleted_while_connected_costs_no_other_robot_a_frame(
    backend, app, register_robot, join_token, wamp_client, as_manager, db
):
    # The `app` here publishes to no router, so the deleted robot's session is not ended for it
    # (see the test below): its calls keep coming and get the frame writer's answer.
    doomed, other = register_robot("UR-1"), register_robot("UR-2")
    doomed_client, other_client = wamp_client(join_token(doomed)), wamp_client(join_token(other))
    answers: dict[str, list] = {"doomed": [], "other": []}
    deleted = threading.Event()

    def stream(name: str, client, first_id: int) -> None:
        # Lists of frames until well after the deletion, so batches of both robots meet in the writer.
        for n in range(40):
            frames = [position(first_id + 10 * n + k) for k in range(10)]
            answers[name].append((deleted.is_set(), client.call(FRAMES, frames)))

    threads = [
        threading.Thread(target=stream, args=("doomed", doomed_client, 1000)),
        threading.Thread(target=stream, args=("other", other_client, 5000)),
    ]
    for thread in threads:
        thread.start()
    while len(answers["other"]) < 10:  # bounded by the threads' own call timeouts
        assert any(thread.is_alive() for thread in threads)
        threading.Event().wait(0.01)
    app.delete(f"/api/robots/{doomed['id']}", headers=as_manager, status=204)
    deleted.set()
    for thread in threads:
        thread.join(TIMEOUT * 2)

    other_answers = [answer for _, call in answers["other"] for answer in call]
    assert len(other_answers) == 400
    assert all(answer["status"] == "ok" for answer in other_answers)
    assert stored_frames(db, other["id"]) == 400
    after_deletion = [answer for was_deleted, call in answers["doomed"] if was_deleted for answer in call]
    assert after_deletion and {answer["error"] for answer in after_deletion} == {UNKNOWN_ROBOT}
    with pytest.raises(ApplicationError) as refused:
        doomed_client.call(FRAME, position(9999))
    assert refused.value.error == UNKNOWN_ROBOT
    assert other_client.call(FRAME, position(9999)) == {"status": "ok", "id": 9999}


@pytest.fixture
def watch(wamp_client, ticket, operator):
    """``watch(robot)``: the robot's status events, as its owner receives them."""
    return lambda robot: wamp_client(ticket(operator)).subscribe(status_topic(robot["id"]))


def next_connection_event(events: queue.Queue) -> bool:
    """Whether the next connection change says connected (frames in between are skipped)."""
    while True:
        (event,), _ = events.get(timeout=TIMEOUT)
        if "connected" in event:
            return event["connected"]


def next_frame(events: queue.Queue) -> dict:
    """The next frame in the status events (connection changes are skipped)."""
    while True:
        (event,), _ = events.get(timeout=TIMEOUT)
        if "frame" in event:
            return event["frame"]


def wait_disconnected(client) -> None:
    """Until the client's connection is gone (bounded): Autobahn for Python ends its session when the router
    removes one of its subscriptions, Autobahn|JS only ends the subscription."""

    async def disconnected():
        await asyncio.wait_for(asyncio.shield(client.session.disconnected), TIMEOUT)

    asyncio.run_coroutine_threadsafe(disconnected(), client._loop).result(TIMEOUT + 5)


def test_an_unshared_watcher_stops_receiving_and_the_owner_does_not(
    backend, realtime_app, register_robot, join_token, wamp_client, ticket, operator, make_user, login, as_operator
):
    app = realtime_app()
    robot = register_robot("UR-1")
    friend = make_user("friend")
    app.post_json(f"/api/robots/{robot['id']}/shares", {"user_id": friend.id}, headers=as_operator, status=201)
    friend_client = wamp_client(ticket(friend))
    friends_view = friend_client.subscribe(status_topic(robot["id"]))
    owners_view = wamp_client(ticket(operator)).subscribe(status_topic(robot["id"]))
    robot_client = wamp_client(join_token(robot))
    assert next_connection_event(friends_view) is True and next_connection_event(owners_view) is True

    app.delete(f"/api/robots/{robot['id']}/shares/{friend.id}", headers=as_operator, status=204)

    wait_disconnected(friend_client)  # its subscription was removed on the router
    robot_client.call(FRAME, position(1, x=4.5))
    (event,), _ = owners_view.get(timeout=TIMEOUT)
    assert event["frame"]["data"]["position_x"] == 4.5  # the owner still follows it
    with pytest.raises(ApplicationError):
        wamp_client(ticket(friend)).subscribe(status_topic(robot["id"]))  # and the friend may not again


def test_a_deleted_robots_session_and_its_watchers_subscriptions_end(
    backend, realtime_app, register_robot, join_token, wamp_client, ticket, operator, as_manager
):
    app = realtime_app()
    robot = register_robot("UR-1")
    watcher = wamp_client(ticket(operator))
    watcher.subscribe(status_topic(robot["id"]))
    robot_client = wamp_client(join_token(robot))

    app.delete(f"/api/robots/{robot['id']}", headers=as_manager, status=204)

    wait_disconnected(robot_client)  # the robot's own session ended
    wait_disconnected(watcher)  # and the owner's subscription to its status
