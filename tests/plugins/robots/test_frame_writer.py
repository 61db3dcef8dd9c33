"""The frame writer on its own: one robot's frames that cannot be stored never cost another robot's in the same batch."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from pyramidion_robots.frames import FrameWriter, RobotGone, Submission
from pyramidion_robots.models import Frame
from pyramidion_robots.schemas import parse_frame


def frame(frame_id: int) -> object:
    return parse_frame(
        {
            "id": frame_id,
            "type": 1,
            "state": "auto",
            "timestamp": dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC).isoformat(),
            "data": {"speed": 0.4, "position_x": 1.0, "position_y": -2.0, "angle_theta": 0.79},
        }
    )


def test_frames_of_a_deleted_robot_fail_alone_in_their_batch(registry, register_robot, app, as_manager, db):
    kept, deleted, also_kept = register_robot("UR-1"), register_robot("UR-2"), register_robot("UR-3")
    app.delete(f"/api/robots/{deleted['id']}", headers=as_manager, status=204)
    stored_batches = []
    writer = FrameWriter(registry.db_engine, stored_batches.append)
    loop = asyncio.new_event_loop()
    try:
        batch = [
            Submission(kept["id"], [frame(1), frame(2)], loop.create_future()),
            Submission(deleted["id"], [frame(1)], loop.create_future()),
            Submission(also_kept["id"], [frame(1)], loop.create_future()),
            Submission(kept["id"], [frame(3)], loop.create_future()),
        ]

        writer.write(batch)  # one transaction for all four calls

        outcomes = loop.run_until_complete(
            asyncio.gather(*(submission.stored for submission in batch), return_exceptions=True)
        )
    finally:
        loop.close()
    assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None
    assert isinstance(outcomes[1], RobotGone)
    db.rollback()
    counts = dict(db.execute(select(Frame.robot_id, func.count()).group_by(Frame.robot_id)).all())
    assert counts == {kept["id"]: 3, also_kept["id"]: 1}
    # Watchers hear only of what was stored.
    assert [[s.robot_id for s in stored] for stored in stored_batches] == [[kept["id"], also_kept["id"], kept["id"]]]


def test_one_robots_unstorable_frames_fail_alone_in_their_batch(registry, register_robot, db):
    """Rows the database refuses (here a state its CHECK does not allow) cost only their robot's call."""
    good, bad = register_robot("UR-1"), register_robot("UR-2")
    writer = FrameWriter(registry.db_engine, lambda stored: None)
    loop = asyncio.new_event_loop()
    try:
        batch = [
            Submission(good["id"], [frame(1)], loop.create_future()),
            Submission(bad["id"], [frame(1).model_copy(update={"state": "flying"})], loop.create_future()),
            Submission(good["id"], [frame(2)], loop.create_future()),
        ]

        writer.write(batch)

        outcomes = loop.run_until_complete(
            asyncio.gather(*(submission.stored for submission in batch), return_exceptions=True)
        )
    finally:
        loop.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], RobotGone)
    db.rollback()
    counts = dict(db.execute(select(Frame.robot_id, func.count()).group_by(Frame.robot_id)).all())
    assert counts == {good["id"]: 2}
