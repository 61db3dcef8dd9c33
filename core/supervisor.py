"""Keep a few child processes running: the supervisor behind ``pyramidion run``.

A child that exits is logged in one line with its exit status and started
again after a delay that doubles (``min_backoff`` up to ``max_backoff``)
while it keeps dying soon after it started; a child that ran for
``stable_after`` seconds starts over at the shortest delay. The other children
keep serving meanwhile. A child that dies ``max_restarts`` times in a row, each
time before it was stable, is given up on: every child is stopped and
:meth:`Supervisor.run` returns 1, so a ``Restart=on-failure`` unit or the
operator notices. SIGINT and SIGTERM stop every child (SIGTERM, then SIGKILL
after ``grace`` seconds) and :meth:`~Supervisor.run` returns 0.

Children run in a session of their own, so a Ctrl-C in the terminal reaches
the supervisor alone, which then stops them in order; on Linux each child is
also told to end when the supervisor dies, so a killed supervisor leaves no
orphans behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    # Not Linux: the child outlives a killed supervisor, as any daemon would.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def describe_exit(returncode: int) -> str:
    """``status 3`` or ``signal SIGKILL``, as a person reads an exit."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


@dataclasses.dataclass
class Child:
    """One supervised command and its restart state."""

    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_exits: int = 0  # exits in a row, each before the child was stable
    restart_at: float | None = None


class Supervisor:
    """Start ``children`` (``(name, argv)`` pairs), restart those that die, stop all on a signal."""

    def __init__(
        self,
        children: Sequence[tuple[str, Sequence[str]]],
        *,
        log: Callable[[str], None] | None = None,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_after: float = 30.0,
        max_restarts: int = 5,
        grace: float = 10.0,
        poll_interval: float = 0.2,
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in children]
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.max_restarts = max_restarts
        self.grace = grace
        self.poll_interval = poll_interval
        self._stop_requested: str | None = None

    def run(self) -> int:
        """Supervise until a signal (0) or a child that keeps crashing (1)."""
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self._start(child)
            status = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_requested = signal.Signals(signum).name

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, start_new_session=True, preexec_fn=_end_with_parent)
        child.started_at = time.monotonic()
        child.restart_at = None

    def _watch(self) -> int:
        while self._stop_requested is None:
            now = time.monotonic()
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    if not self._schedule_restart(child, now):
                        return 1
                elif child.restart_at is not None and now >= child.restart_at:
                    self.log(f"run: starting {child.name} again")
                    self._start(child)
            time.sleep(self.poll_interval)
        self.log(f"run: {self._stop_requested}: stopping {', '.join(c.name for c in self.children)}")
        return 0

    def _schedule_restart(self, child: Child, now: float) -> bool:
        """Log the exit and plan the restart; False when the child is given up on."""
        assert child.process is not None
        ran = now - child.started_at
        exit_text = describe_exit(child.process.returncode)
        child.process = None
        child.quick_exits = 1 if ran >= self.stable_after else child.quick_exits + 1
        if child.quick_exits > self.max_restarts:
            self.log(
                f"run: {child.name} exited with {exit_text} after {ran:.1f} s, {child.quick_exits} times in a row "
                f"within {self.stable_after:.0f} s of starting: giving up, stopping everything"
            )
            return False
        delay = min(self.max_backoff, self.min_backoff * 2 ** (child.quick_exits - 1))
        self.log(
            f"run: {child.name} exited with {exit_text} after {ran:.1f} s; restarting in {delay:.1f} s "
            f"(attempt {child.quick_exits} of {self.max_restarts}); the others keep running"
        )
        child.restart_at = now + delay
        return True

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + self.grace
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
