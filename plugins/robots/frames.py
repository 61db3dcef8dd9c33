"""Storing data frames in batches, so that thousands per second fit in a few transactions.

The frame procedures run on the backend's event loop: they hand the frames of
one call to the process's :class:`FrameWriter` and await the asyncio future it
returns. The writer's thread takes every submission waiting in its queue (up
to ``batch_size`` frames), inserts their frames in one transaction and
resolves the futures only after the commit, with one hop to the event loop per
batch: an acknowledgement always means the frame is stored. The unique index
on ``(robot_id, frame_id)`` with ``ON CONFLICT DO NOTHING`` makes a repeated
frame (a resend after a lost acknowledgement, the same frame twice in one
batch) a no-op that is still acknowledged: never lost, never stored twice.

One robot's bad data never costs another robot's frames. The writer first
looks which of the batch's robots still exist (a robot deleted while
connected: its rows would break the foreign key) and inserts the frames of
those; the calls of a deleted robot fail with :class:`RobotGone`. Should the
insert fail all the same (a robot deleted between the look and the insert,
on PostgreSQL), the batch is stored again in a fresh transaction, each
robot's frames in a savepoint of their own, so only the failing robot's
calls fail. A failed commit fails the whole batch, and the robots send those
frames again.

The writer needs no linger time: while one batch commits, the next one fills.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from pyramidion.db import utcnow

from .models import Frame, Robot
from .schemas import PositionFrame

log = logging.getLogger(__name__)

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class RobotGone(Exception):
    """The robot was deleted (while still connected): its frames cannot be stored, now or later."""


@dataclasses.dataclass
class Submission:
    """The valid frames of one call of a robot, acknowledged together once their batch commits."""

    robot_id: int
    frames: list[Any]  # parsed frames from schemas.parse_frame
    stored: asyncio.Future

    def rows(self, received_at: Any) -> list[dict[str, Any]]:
        return [_row(self.robot_id, frame, received_at) for frame in self.frames]


def _row(robot_id: int, frame: Any, received_at: Any) -> dict[str, Any]:
    position = frame.data if isinstance(frame, PositionFrame) else None
    return {
        "robot_id": robot_id,
        "frame_id": frame.id,
        "type": frame.type,
        "state": frame.state,
        "timestamp": frame.timestamp,
        "received_at": received_at,
        "speed": position.speed if position else None,
        "position_x": position.position_x if position else None,
        "position_y": position.position_y if position else None,
        "angle_theta": position.angle_theta if position else None,
        "data": None if position else _jsonable(frame.data),
    }


def _jsonable(data: Any) -> Any:
    return data.model_dump(mode="json") if hasattr(data, "model_dump") else data


class FrameWriter:
    """One per process: a thread that stores queued frames, many per transaction.

    ``on_stored(batch)`` is called after each commit (from the writer's
    thread) with the submissions of the batch; it must not raise.
    """

    def __init__(self, engine: Engine, on_stored: Callable[[list[Submission]], None], batch_size: int = 500) -> None:
        self.engine = engine
        self.on_stored = on_stored
        self.batch_size = batch_size
        self._queue: queue.SimpleQueue[Submission] = queue.SimpleQueue()
        self._insert_frames = _INSERTS[engine.dialect.name](Frame.__table__).on_conflict_do_nothing(
            index_elements=["robot_id", "frame_id"]
        )
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    def store(self, robot_id: int, frames: list[Any]) -> asyncio.Future:
        """Queue ``frames`` of ``robot_id``; on an event loop.

        The returned future of that loop resolves (to None) once every one of
        them is committed, or fails with the writer's error. Cancelling it
        (a caller that stopped waiting) does not take the frames back.
        """
        self._ensure_running()
        stored = asyncio.get_running_loop().create_future()
        self._queue.put(Submission(robot_id, frames, stored))
        return stored

    def _ensure_running(self) -> None:
        # Started on first use: the hook that creates the writer also runs in
        # `pyramidion router start`, which stores nothing.
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="robots-frame-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            count = len(batch[0].frames)
            while count < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                count += len(batch[-1].frames)
            self.write(batch)

    def write(self, batch: list[Submission]) -> None:
        """Store one batch and settle its futures (the writer thread's work)."""
        received_at = utcnow()
        try:
            failures = self._store(batch, received_at, self._insert_known)
        except Exception:
            # A robot deleted after the look (PostgreSQL), or one robot's bad rows: once more, each robot apart.
            log.info("a batch of %d call(s) of frames failed; storing each robot's frames apart", len(batch))
            try:
                failures = self._store(batch, received_at, self._insert_apart)
            except Exception as exc:
                log.exception("could not store %d call(s) of frames; none is acknowledged", len(batch))
                _settle([(submission, exc) for submission in batch])
                return
        _settle([(submission, failures.get(submission.robot_id)) for submission in batch])
        stored = [submission for submission in batch if submission.robot_id not in failures]
        if not stored:
            return
        try:
            self.on_stored(stored)
        except Exception:
            log.exception("handling %d stored call(s) of frames failed", len(stored))

    def _store(
        self, batch: list[Submission], received_at: Any, insert: Callable[..., dict[int, Exception]]
    ) -> dict[int, Exception]:
        """``insert(conn, frames by robot, received_at)`` in one transaction; the robots it could not store, with why."""
        by_robot: dict[int, list[Submission]] = collections.defaultdict(list)
        for submission in batch:
            by_robot[submission.robot_id].append(submission)
        with self.engine.begin() as conn:
            return insert(conn, by_robot, received_at)

    def _insert_known(
        self, conn: Connection, by_robot: dict[int, list[Submission]], received_at: Any
    ) -> dict[int, Exception]:
        """The fast path: one look for robots deleted meanwhile, then one insert for the frames of all the others.

        Cheaper than a savepoint per batch (SQLite writes a statement journal
        for one). On SQLite the transaction holds the write lock from its
        start, so no robot can go between the look and the insert.
        """
        known = set(conn.scalars(select(Robot.id).where(Robot.id.in_(list(by_robot)))))
        rows = [row for robot_id in known for submission in by_robot[robot_id] for row in submission.rows(received_at)]
        if rows:
            conn.execute(self._insert_frames, rows)
        return {robot_id: RobotGone(robot_id) for robot_id in by_robot if robot_id not in known}

    def _insert_apart(
        self, conn: Connection, by_robot: dict[int, list[Submission]], received_at: Any
    ) -> dict[int, Exception]:
        """Each robot's frames in a savepoint of their own: one robot's failure leaves the others' stored."""
        failures: dict[int, Exception] = {}
        for robot_id, submissions in by_robot.items():
            try:
                with conn.begin_nested():
                    conn.execute(self._insert_frames, [row for s in submissions for row in s.rows(received_at)])
            except Exception as exc:
                if conn.scalar(select(exists().where(Robot.id == robot_id))):
                    log.exception("could not store the frames of robot %d", robot_id)
                    failures[robot_id] = exc
                else:
                    failures[robot_id] = RobotGone(robot_id)
        return failures


def _settle(outcomes: list[tuple[Submission, Exception | None]]) -> None:
    """Resolve the futures on their loops (None: stored): one thread-safe hop per loop, not per call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, Exception | None]]] = collections.defaultdict(
        list
    )
    for submission, error in outcomes:
        by_loop[submission.stored.get_loop()].append((submission.stored, error))
    for loop, futures in by_loop.items():
        # A closed loop: the backend stopped, nobody waits for these.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[tuple[asyncio.Future, Exception | None]]) -> None:
    for future, error in futures:
        if future.done():  # cancelled: its caller stopped waiting
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
