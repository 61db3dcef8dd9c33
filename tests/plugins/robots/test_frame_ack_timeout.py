"""A frame the database cannot take in time: the robot hears "not stored", and its resend is stored once."""

from __future__ import annotations

from typing import Any

import pytest
from autobahn.wamp.exception import ApplicationError
from sqlalchemy import func, select

from pyramidion_robots.models import Frame
from pyramidion_robots.realtime import FRAME, NOT_STORED

pytestmark = [pytest.mark.router, pytest.mark.slow]


def position(frame_id: int) -> dict[str, Any]:
    return {
        "id": frame_id,
        "type": 1,
        "state": "auto",
        "timestamp": "2026-01-31T12:00:00.250Z",
        "data": {"speed": 0.4, "position_x": 1.0, "position_y": -2.0, "angle_theta": 0.79},
    }


def test_a_frame_not_stored_in_time_is_refused_and_its_resend_stored_once(
    router, start_backend, register_robot, join_token, wamp_client, registry, db, monkeypatch
):
    monkeypatch.setitem(router.overrides, "robots.frame_ack_timeout", "0.5")  # the backend's settings
    start_backend()
    robot = register_robot("UR-1")
    client = wamp_client(join_token(robot))
    assert client.call(FRAME, position(1)) == {"status": "ok", "id": 1}

    # Another writer holds the frames table longer than robots.frame_ack_timeout (SQLite: the
    # database's write lock, which the core's BEGIN IMMEDIATE takes; PostgreSQL: a lock that stops inserts).
    with registry.db_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"LOCK TABLE {Frame.__tablename__} IN SHARE MODE")
        with pytest.raises(ApplicationError) as refused:
            client.call(FRAME, position(2))
    assert refused.value.error == NOT_STORED

    # The writer stores what it held once the lock is gone; the robot sends the frame again, as told.
    assert client.call(FRAME, position(2)) == {"status": "ok", "id": 2}
    assert client.call(FRAME, position(3)) == {"status": "ok", "id": 3}
    db.rollback()  # a fresh snapshot
    stored = db.scalars(select(Frame.frame_id).where(Frame.robot_id == robot["id"]).order_by(Frame.frame_id))
    assert list(stored) == [1, 2, 3]
    assert db.scalar(select(func.count()).select_from(Frame)) == 3
