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

A batch costs the database one statement, executed for every row by the
driver (``executemany``): written once as SQL and given the values of the
columns' own bind processing (what the model would store), so that no
statement is built or compiled, nor its parameters processed by SQLAlchemy,
per batch. The writer thread
holds the interpreter lock for a few Python steps per batch, not per frame,
so it seldom makes the event loop wait, nor waits for it.

One robot's bad data never costs another robot's frames. Should the batch's
insert fail (the rows of a robot deleted while connected break the foreign
key; a value the database refuses), the batch is stored again in a fresh
transaction, each robot's frames in a savepoint of their own: only the
failing robot's calls fail, those of a deleted robot with
:class:`RobotGone`. A failed commit fails the whole batch, and the robots
send those frames again.

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
from sqlalchemy.engine import Connection, Dialect, Engine

from pyramidion.db import utcnow

from .models import Frame, Robot
from .schemas import PositionFrame

log = logging.getLogger(__name__)

COLUMNS = (
    "robot_id",
    "frame_id",
    "type",
    "state",
    "timestamp",
    "speed",
    "position_x",
    "position_y",
    "angle_theta",
    "data",
    "received_at",  # last: the batch's, not the frame's
)


class RobotGone(Exception):
    """The robot was deleted (while still connected): its frames cannot be stored, now or later."""


@dataclasses.dataclass
class Submission:
    """The valid frames of one call of a robot, acknowledged together once their batch commits."""

    robot_id: int
    frames: list[Any]  # parsed frames from schemas.parse_frame
    stored: asyncio.Future

    def rows(self) -> list[tuple[Any, ...]]:
        """The frames as rows of :data:`COLUMNS` but ``received_at``, in Python values."""
        return [_row(self.robot_id, frame) for frame in self.frames]


def _row(robot_id: int, frame: Any) -> tuple[Any, ...]:
    if isinstance(frame, PositionFrame):
        p = frame.data
        return (robot_id, frame.id, frame.type, frame.state, frame.timestamp) + (
            p.speed,
            p.position_x,
            p.position_y,
            p.angle_theta,
            None,
        )
    data = frame.data.model_dump(mode="json") if hasattr(frame.data, "model_dump") else frame.data
    return (robot_id, frame.id, frame.type, frame.state, frame.timestamp, None, None, None, None, data)


class FrameInsert:
    """``INSERT ... ON CONFLICT DO NOTHING`` of frame rows, one statement executed for many rows by the driver.

    Values go through each column's bind processing for the dialect (a
    time zone to UTC, the state's name, JSON), so rows are stored exactly as
    through the model. What is the same in every row is processed once per
    batch, not per row: the batch's ``received_at``, and None (a position
    frame's empty ``data``, the position columns of the other frames).
    """

    def __init__(self, dialect: Dialect) -> None:
        table = Frame.__table__
        # The dialect's own implementation of each type: PostgreSQL's JSON, for one, wraps values for psycopg.
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS]
        *self._processors, self._stamp = processors
        self._nones = [None if process is None else process(None) for process in self._processors]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._sql = (
            f"INSERT INTO {table.name} ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
            " ON CONFLICT (robot_id, frame_id) DO NOTHING"
        )

    def __call__(self, conn: Connection, rows: list[tuple[Any, ...]], received_at: Any) -> None:
        """Insert ``rows`` (of :data:`COLUMNS` but ``received_at``, in Python values), received at ``received_at``."""
        processors, nones = self._processors, self._nones
        stamp = (received_at if self._stamp is None else self._stamp(received_at),)
        parameters = [
            tuple(
                value if process is None else none if value is None else process(value)
                for process, none, value in zip(processors, nones, row, strict=True)
            )
            + stamp
            for row in rows
        ]
        conn.exec_driver_sql(self._sql, parameters)


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
        self._insert_frames = FrameInsert(engine.dialect)
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
            failures = self._store(batch, received_at, self._insert_all)
        except Exception:
            # A robot deleted while connected, or one robot's bad rows: once more, each robot apart.
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

    def _insert_all(
        self, conn: Connection, by_robot: dict[int, list[Submission]], received_at: Any
    ) -> dict[int, Exception]:
        """The fast path: every frame of the batch in one statement; it fails whole or stores all."""
        self._insert_frames(
            conn, [row for submissions in by_robot.values() for s in submissions for row in s.rows()], received_at
        )
        return {}

    def _insert_apart(
        self, conn: Connection, by_robot: dict[int, list[Submission]], received_at: Any
    ) -> dict[int, Exception]:
        """Each robot's frames in a savepoint of their own: one robot's failure leaves the others' stored."""
        failures: dict[int, Exception] = {}
        for robot_id, submissions in by_robot.items():
            try:
                with conn.begin_nested():
                    self._insert_frames(conn, [row for s in submissions for row in s.rows()], received_at)
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
