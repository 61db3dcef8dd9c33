"""Background tasks: running a job, and launching what the schedules say is due."""

from __future__ import annotations

from pyramidion.queue import crontab, periodic_task, task
from pyramidion.request import Request

from .interfaces import IJobRunner
from .services import launch_due_schedules


@task()  # never retried: a run that failed half-way must not run its hosts twice
def run_job(request: Request, run_id: int, sensitive_token: str | None = None) -> None:
    """Run a launched run with the registered :class:`IJobRunner`."""
    request.find_service(IJobRunner).execute(run_id, sensitive_token)


@periodic_task(crontab(minute="*"))
def launch_scheduled_runs(request: Request) -> None:
    """Launch a run for every schedule that is due."""
    launch_due_schedules(request.db, request.registry.job_templates, request.find_service(IJobRunner))
