"""The Nornir runner: runs a job over a database inventory, in short transactions.

:class:`NornirRunner` is the default :class:`~pyramidion_jobs.interfaces.IJobRunner`:
it queues a run as the Huey task ``run_job`` and, in the worker, runs it.

A run never holds a transaction open while Nornir works (on SQLite one open
write transaction would stop every other writer). It goes in steps:

1. claim the run: ``created``/``scheduled`` -> ``running`` in one UPDATE, so
   a run that was aborted, or is delivered twice by the queue, never runs;
2. load the inventory (a short read);
3. run Nornir with a :class:`RunRecorder`, which every ``jobs.flush_interval``
   seconds writes the finished hosts' results, publishes the progress events
   gathered meanwhile, renews the run's lease and reads whether the run was
   aborted, all in one short transaction; an aborted run stops before the next
   host or subtask starts;
4. write the outcome, unless the run was aborted meanwhile: its status stays.

The lease (``jobs.lease_seconds``) is how a run outlives its worker: the claim
takes it, every flush renews it, and a thread flushes every quarter of it
while a host takes long. A run whose lease expired is failed as "worker lost"
by :func:`~pyramidion_jobs.services.mark_lost_runs`. A worker that was only
slow finds its run failed at its next flush (the renewal is conditional on the
run still running) and stops, dropping what it did since: the lost run's
outcome stands, and nothing runs twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from zope.interface import implementer

from pyramidion.db import utcnow
from pyramidion.request import Registry, Request

from .catalogue import JobTemplate
from .credentials import Cipher
from .interfaces import IJobRunner
from .models import HostStatus, Run, RunHost, RunnerConfiguration, RunStatus
from .realtime import run_topic
from .tasks import run_job

# Nornir is imported by the worker that runs a job, not by every web process.
if TYPE_CHECKING:
    from nornir.core.inventory import Host as NornirHost
    from nornir.core.task import MultiResult, Result, Task

log = logging.getLogger(__name__)


class RunAborted(Exception):
    """Raised before a host's task or a subtask starts once the run was aborted (or lost)."""

    def __init__(self) -> None:
        super().__init__("the run was aborted")


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it: what Nornir tasks return is anything at all."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def result_node(result: Result, subtasks: list[dict[str, Any]]) -> dict[str, Any]:
    """One Nornir result in its own shape, subtasks nested below it."""
    exception = result.exception
    return {
        "name": result.name,
        "result": jsonable(result.result),
        "changed": result.changed,
        "diff": result.diff,
        "failed": result.failed,
        "exception": f"{type(exception).__name__}: {exception}" if exception is not None else None,
        "subtasks": subtasks,
    }


class RunRecorder:
    """A Nornir processor: results and progress of one run, and its abort flag."""

    def __init__(self, run_id: int, session_factory: Any, publisher: Any, interval: float, lease: float) -> None:
        self.run_id = run_id
        self.session_factory = session_factory
        self.publisher = publisher
        self.interval = interval
        self.lease = dt.timedelta(seconds=lease)
        self.aborted = threading.Event()  # set when the run was aborted, or lost: no new host or subtask starts
        self.lost = False  # the run was failed as "worker lost" while this worker still ran it
        self.total = 0
        self.failed = 0
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._started_at: dict[str, dt.datetime] = {}
        self._aborted_hosts: set[str] = set()
        # Finished subtasks wait here for their parent: Nornir's own results
        # are flat, the tree is rebuilt from who ran whom.
        self._children: dict[int, list[dict[str, Any]]] = {}
        self._last_flush = time.monotonic()

    # -- Nornir's processor interface ---------------------------------------------

    def task_started(self, task: Task) -> None:
        pass

    def task_completed(self, task: Task, result: Any) -> None:
        pass

    def task_instance_started(self, task: Task, host: NornirHost) -> None:
        now = utcnow()
        self._started_at[host.name] = now
        self._add(event={"host": host.name, "event": "started", "at": now.isoformat()})
        self.flush_if_due()

    def task_instance_completed(self, task: Task, host: NornirHost, result: MultiResult) -> None:
        tree = result_node(result[0], self._children.pop(id(task), []))
        if host.name in self._aborted_hosts:
            status = HostStatus.aborted
        elif result.failed:
            status = HostStatus.failed
        else:
            status = HostStatus.finished
        now = utcnow()
        row = {
            "run_id": self.run_id,
            "host": host.name,
            "status": status,
            "failed": result.failed,
            "changed": result.changed,
            "result": [tree],
            "started_at": self._started_at.pop(host.name, now),
            "finished_at": now,
        }
        self._add(row=row, event={"host": host.name, "event": status.value, "at": now.isoformat()})
        self.flush_if_due()

    def subtask_instance_started(self, task: Task, host: NornirHost) -> None:
        self.flush_if_due()
        self.check_abort(host)

    def subtask_instance_completed(self, task: Task, host: NornirHost, result: MultiResult) -> None:
        node = result_node(result[0], self._children.pop(id(task), []))
        self._children.setdefault(id(task.parent_task), []).append(node)

    # -- the run's side -------------------------------------------------------------

    def check_abort(self, host: NornirHost) -> None:
        if self.aborted.is_set():
            self._aborted_hosts.add(host.name)
            raise RunAborted()

    def _add(self, row: dict[str, Any] | None = None, event: dict[str, Any] | None = None) -> None:
        with self._buffer_lock:
            if row is not None:
                self._rows.append(row)
                self.total += 1
                self.failed += row["status"] == HostStatus.failed
            if event is not None:
                self._events.append(event)

    def flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush < self.interval:
            return
        # One thread flushes; the others go on with their hosts.
        if self._flush_lock.acquire(blocking=False):
            try:
                self._flush()
            finally:
                self._flush_lock.release()

    def flush(self) -> None:
        with self._flush_lock:
            self._flush()

    def _flush(self) -> None:
        with self._buffer_lock:
            rows, self._rows = self._rows, []
            events, self._events = self._events, []
        try:
            self._write(rows)
        except Exception:
            with self._buffer_lock:  # kept for the next flush: the database may be back by then
                self._rows[:0], self._events[:0] = rows, events
            raise
        if events and not self.lost:
            self.publisher.publish(run_topic(self.run_id), {"run": self.run_id, "hosts": events})
        self._last_flush = time.monotonic()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Renew the lease, store ``rows``, and notice an abort or a loss: one short transaction."""
        with self.session_factory.begin() as db:
            # Renewing first, on the condition that the run still runs, is the
            # compare-and-set with mark_lost_runs: whichever writes the row first wins.
            renewed = db.execute(
                update(Run)
                .where(Run.id == self.run_id, Run.status == RunStatus.running)
                .values(lease_expires_at=utcnow() + self.lease)
            ).rowcount
            status = RunStatus.running if renewed else db.scalar(select(Run.status).where(Run.id == self.run_id))
            if status == RunStatus.aborted:
                self.aborted.set()
            elif status != RunStatus.running and not self.lost:
                log.warning(
                    "run %s was failed as 'worker lost' (its lease expired) while this worker ran it:"
                    " stopping it, dropping its results since",
                    self.run_id,
                )
                self.lost = True
                self.aborted.set()
            if rows and not self.lost:
                db.execute(insert(RunHost), rows)


def _guarded(template: JobTemplate, recorder: RunRecorder) -> Any:
    """The template's function, refusing to start once the run is aborted."""

    def run_template(task: Task, **variables: Any) -> Any:
        recorder.check_abort(task.host)
        return template.function(task, **variables)

    return run_template


def _select_hosts(nr: Any, filters: dict[str, Any]) -> Any:
    from nornir.core.filter import F

    hosts = filters.get("hosts")
    if hosts:
        nr = nr.filter(F(name__any=hosts))
    attributes = filters.get("attributes") or {}
    if attributes:
        nr = nr.filter(F(**attributes))
    return nr


def _claim(session_factory: Any, run_id: int, lease: float) -> Run | None:
    with session_factory.begin() as db:
        now = utcnow()
        claimed = db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_([RunStatus.created, RunStatus.scheduled]))
            .values(status=RunStatus.running, started_at=now, lease_expires_at=now + dt.timedelta(seconds=lease))
        ).rowcount
        if not claimed:
            return None
        return db.get(Run, run_id)


def _finish(
    session_factory: Any, run_id: int, status: RunStatus, recorder: RunRecorder | None, error: str | None = None
) -> RunStatus:
    """Record the outcome; a run aborted or lost meanwhile keeps its status. Returns the status it has."""
    with session_factory.begin() as db:
        if recorder is not None and not recorder.lost:
            # Counted when aborted too: the hosts that ran did run. A lost run was counted as it was failed.
            db.execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_([RunStatus.running, RunStatus.aborted]))
                .values(hosts_total=recorder.total, hosts_failed=recorder.failed)
            )
        db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.running)
            .values(status=status, finished_at=utcnow(), error=error, lease_expires_at=None)
        )
        return db.scalar(select(Run.status).where(Run.id == run_id))


def _record_selection(session_factory: Any, run_id: int, hosts: list[str]) -> None:
    with session_factory.begin() as db:
        db.execute(update(Run).where(Run.id == run_id, Run.status == RunStatus.running).values(selected_hosts=hosts))


@contextlib.contextmanager
def _keeping_lease(recorder: RunRecorder) -> Iterator[None]:
    """Flush (so renew the lease) every quarter of it, also while no host starts or ends for long."""
    every = recorder.lease.total_seconds() / 4
    done = threading.Event()

    def renew() -> None:
        while not done.wait(every):
            try:
                recorder.flush()
            except Exception as exc:  # the database away for a moment: the next renewal may do
                log.warning(
                    "run %s: could not renew its lease (%s); trying again in %.0f s", recorder.run_id, exc, every
                )

    thread = threading.Thread(target=renew, name=f"jobs-run-{recorder.run_id}-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def execute_run(registry: Registry, run_id: int, sensitive_token: str | None = None) -> None:
    """Run ``run_id`` to its end (the body of the ``run_job`` task)."""
    session_factory = registry.db_session_factory
    settings = registry.settings
    lease = settings["jobs.lease_seconds"]
    run = _claim(session_factory, run_id, lease)
    if run is None:
        log.info("run %s is no longer waiting (aborted, or delivered twice); not running it", run_id)
        return
    publisher = registry.realtime
    publisher.publish(run_topic(run_id), {"run": run_id, "status": RunStatus.running.value})
    template = registry.job_templates.get(run.template)
    if template is None or run.inventory_id is None:
        problem = f"no job template named {run.template!r}" if template is None else "its inventory was deleted"
        status = _finish(session_factory, run_id, RunStatus.failed, None, problem)
        publisher.publish(run_topic(run_id), {"run": run_id, "status": status.value})
        return
    cipher: Cipher = registry.jobs_cipher
    variables = dict(run.variables)
    if sensitive_token is not None:
        variables.update(cipher.decrypt(sensitive_token))
    recorder = RunRecorder(run_id, session_factory, publisher, settings["jobs.flush_interval"], lease)
    with _keeping_lease(recorder):
        status = _run_nornir(session_factory, run, template, variables, cipher, recorder)
    if recorder.lost:
        log.info("run %s stopped: it stays failed as 'worker lost'", run_id)
        return
    publisher.publish(run_topic(run_id), {"run": run_id, "status": status.value})


def _run_nornir(
    session_factory: Any,
    run: Run,
    template: JobTemplate,
    variables: dict[str, Any],
    cipher: Cipher,
    recorder: RunRecorder,
) -> RunStatus:
    """Run the template with Nornir on the run's hosts; returns the run's status after."""
    from nornir import InitNornir

    run_id = run.id
    try:
        with session_factory() as db:
            runner = RunnerConfiguration.current(db)
            runner_config = {
                "plugin": runner.runner,
                "options": {"num_workers": runner.num_workers} if runner.runner == "threaded" else {},
            }
        nr = InitNornir(
            runner=runner_config,
            inventory={
                "plugin": "PyramidionInventory",
                "options": {
                    "session_factory": session_factory,
                    "inventory_id": run.inventory_id,
                    "cipher": cipher,
                    "host_names": run.filters.get("hosts") or None,
                },
            },
            logging={"enabled": False},
        )
        nr = _select_hosts(nr, run.filters)
        _record_selection(session_factory, run_id, list(nr.inventory.hosts))
        try:
            outcome = nr.with_processors([recorder]).run(
                task=_guarded(template, recorder), name=template.name, **variables
            )
        finally:
            nr.close_connections(on_good=True, on_failed=True)  # without the recorder: not part of the results
        recorder.flush()
        status = RunStatus.failed if outcome.failed else RunStatus.finished
        return _finish(session_factory, run_id, status, recorder)
    except Exception as exc:  # the run failed as a whole (inventory, runner); say why on the run
        log.exception("run %s failed", run_id)
        recorder.flush()
        return _finish(session_factory, run_id, RunStatus.failed, recorder, f"{type(exc).__name__}: {exc}")


@implementer(IJobRunner)
class NornirRunner:
    """Runs go through the Huey queue to the worker, which runs them with Nornir."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def start(self, run: Run, sensitive: dict[str, Any]) -> str:
        # Sensitive values ride with the queued task, encrypted, and nowhere else.
        token = self.request.registry.jobs_cipher.encrypt(sensitive) if sensitive else None
        args = (run.id, token) if token else (run.id,)
        return self.request.task(run_job).schedule(args, eta=run.scheduled_at)

    def execute(self, run_id: int, sensitive_token: str | None = None) -> None:
        execute_run(self.request.registry, run_id, sensitive_token)


def nornir_runner(context: Any, request: Request) -> NornirRunner:
    """The service factory registered for :class:`IJobRunner`."""
    return NornirRunner(request)
