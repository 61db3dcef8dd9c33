"""Storing data frames in batches, so that thousands per second fit in a few transactions.

The WAMP procedure that receives a frame hands it to the process's
:class:`FrameWriter` and waits for the returned future. The writer's thread
takes every frame waiting in its queue (up to ``batch_size``), inserts them in
one transaction and resolves each future only after the commit: an
acknowledgement always means the frame is stored. A failed transaction fails
every future of its batch, so none is acknowledged and the robots send them
again. The unique index on ``(robot_id, frame_id)`` with ``ON CONFLICT DO
NOTHING`` makes a repeated frame (a resend after a lost acknowledgement, the
same frame twice in one batch) a no-op that is still acknowledged: never lost,
never stored twice.

The writer needs no linger time: while one batch commits, the next one fills.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import queue
import threading
from typing import Any, Callable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from pyramidion.db import utcnow

from .models import Frame
from .schemas import PositionFrame

log = logging.getLogger(__name__)

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclasses.dataclass
class PendingFrame:
    robot_id: int
    frame: Any  # a parsed frame from schemas.parse_frame
    stored: concurrent.futures.Future = dataclasses.field(default_factory=concurrent.futures.Future)

    def row(self, received_at: Any) -> dict[str, Any]:
        frame = self.frame
        position = frame.data if isinstance(frame, PositionFrame) else None
        return {
            "robot_id": self.robot_id,
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

    ``on_stored(frames)`` is called after each commit (from the writer's
    thread) with the frames of the batch; it must not raise.
    """

    def __init__(self, engine: Engine, on_stored: Callable[[list[PendingFrame]], None], batch_size: int = 500) -> None:
        self.engine = engine
        self.on_stored = on_stored
        self.batch_size = batch_size
        self._queue: queue.SimpleQueue[PendingFrame] = queue.SimpleQueue()
        self._insert = _INSERTS[engine.dialect.name](Frame.__table__).on_conflict_do_nothing(
            index_elements=["robot_id", "frame_id"]
        )
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    def submit(self, robot_id: int, frame: Any) -> concurrent.futures.Future:
        """Queue ``frame`` of ``robot_id``; the future resolves once it is committed (or fails)."""
        self._ensure_running()
        pending = PendingFrame(robot_id, frame)
        self._queue.put(pending)
        return pending.stored

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
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store(batch)

    def _store(self, batch: list[PendingFrame]) -> None:
        received_at = utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(self._insert, [pending.row(received_at) for pending in batch])
        except Exception as exc:
            log.exception("could not store %d frame(s); none is acknowledged", len(batch))
            for pending in batch:
                pending.stored.set_exception(exc)
            return
        for pending in batch:
            pending.stored.set_result(None)
        try:
            self.on_stored(batch)
        except Exception:
            log.exception("handling %d stored frame(s) failed", len(batch))

