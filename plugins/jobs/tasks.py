"""Background tasks: running a job, launching what the schedules say is due, failing runs whose worker is gone."""

from __future__ import annotations

import math

from pyramidion.queue import crontab, periodic_task, startup_task, task
from pyramidion.request import Request

from .interfaces import IJobRunner
from .services import launch_due_schedules, mark_lost_runs


@task()  # never retried: a run that failed half-way must not run its hosts twice
def run_job(request: Request, run_id: int, sensitive_token: str | None = None) -> None:
    """Run a launched run with the registered :class:`IJobRunner`."""
    request.find_service(IJobRunner).execute(run_id, sensitive_token)


@periodic_task(crontab(minute="*"))
def launch_scheduled_runs(request: Request) -> None:
    """Launch a run for every schedule that is due."""
    launch_due_schedules(request.db, request.registry.job_templates, request.find_service(IJobRunner))


@periodic_task(crontab(minute="*"))
def find_lost_runs(request: Request) -> None:
    """Fail the runs whose worker is gone, now and every ``jobs.lease_seconds`` until the next minute.

    Periodic tasks come once a minute at most; the checks in between keep a
    lost run's wait under twice its lease.
    """
    mark_lost_runs(request.db, request.realtime)
    every = request.registry.settings["jobs.lease_seconds"]
    for step in range(1, math.ceil(60 / every)):
        request.task(find_lost_runs_again).schedule(delay=step * every)


@task()
def find_lost_runs_again(request: Request) -> None:
    """One of :func:`find_lost_runs`' checks between two minutes."""
    mark_lost_runs(request.db, request.realtime)


@startup_task()
def find_lost_runs_at_start(request: Request) -> None:
    """A worker starting (a dead one restarted, say) fails at once the runs whose lease has expired."""
    mark_lost_runs(request.db, request.realtime)
