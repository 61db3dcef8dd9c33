"""Background tasks: running a job, and launching what the schedules say is due."""

from __future__ import annotations

from typing import Any

from pyramidion.queue import crontab, periodic_task, task

from .execution import execute_run


@task()  # never retried: a run that failed half-way must not run its hosts twice
def run_job(request: Any, run_id: int, sensitive_token: str | None = None) -> None:
    execute_run(request.registry, run_id, sensitive_token)


@periodic_task(crontab(minute="*"))
def launch_scheduled_runs(request: Any) -> None:
    from .service import launch_due_schedules  # here: service enqueues run_job, so it imports this module

    launch_due_schedules(request)
