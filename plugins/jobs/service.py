"""Launching runs, shared by the API, presets, relaunches and the schedules."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from croniter import croniter
from sqlalchemy import select, update

from pyramidion.api import APIError, Invalid
from pyramidion.db import utcnow

from .models import InventoryHost, Preset, Run, RunStatus, Schedule
from .tasks import run_job
from .templates import JobTemplate


def check_hosts_exist(db: Any, inventory_id: int, names: list[str] | None, field: str = "filters.hosts") -> None:
    if not names:
        return
    found = set(
        db.scalars(
            select(InventoryHost.name).where(InventoryHost.inventory_id == inventory_id, InventoryHost.name.in_(names))
        )
    )
    missing = [name for name in names if name not in found]
    if missing:
        raise Invalid.field(field, f"no such host(s) in the inventory: {', '.join(missing)}")


def no_sensitive_values(template: JobTemplate, variables: dict[str, Any], field: str = "variables") -> None:
    """Presets and schedules are stored: they may not carry values of sensitive parameters."""
    if template.sensitive:
        raise Invalid(
            f"template {template.name!r} has sensitive parameters, which are never stored, so it cannot be saved or scheduled",
            [
                {"field": f"{field}.{name}", "location": "body", "message": "sensitive: cannot be stored"}
                for name in sorted(template.sensitive)
            ],
        )


def launch_run(
    request: Any,
    template: JobTemplate,
    inventory_id: int,
    variables: dict[str, Any],
    filters: dict[str, Any],
    *,
    name: str | None = None,
    scheduled_at: dt.datetime | None = None,
    created_by_id: int | None = None,
    **origin: Any,
) -> Run:
    """Record a run and queue it (after commit); ``variables`` are checked already.

    ``origin``: ``preset_id``, ``schedule_id`` or ``relaunch_of_id``.
    """
    storable, sensitive = template.split_sensitive(variables)
    later = scheduled_at is not None and scheduled_at > utcnow()
    if later and sensitive:
        raise Invalid.field("scheduled_at", "the template has sensitive parameters, which are never stored: run it now")
    run = Run(
        name=name or template.name,
        template=template.name,
        inventory_id=inventory_id,
        variables=storable,
        filters=filters,
        status=RunStatus.scheduled if later else RunStatus.created,
        scheduled_at=scheduled_at if later else None,
        created_by_id=created_by_id,
        **origin,
    )
    request.db.add(run)
    request.db.flush()
    # Sensitive values ride with the queued task, encrypted, and nowhere else.
    args = (run.id, request.registry.jobs_cipher.encrypt(sensitive)) if sensitive else (run.id,)
    run.queue_task_id = request.task(run_job).schedule(args, eta=run.scheduled_at)
    return run


def abort_run(request: Any, run: Run) -> None:
    if RunStatus(run.status).is_done:
        raise APIError(f"run {run.id} is {run.status.value} already", status=409)
    # Conditional, so a run finishing at this moment is not turned into an aborted one.
    changed = request.db.execute(
        update(Run)
        .where(Run.id == run.id, Run.status.in_([RunStatus.created, RunStatus.scheduled, RunStatus.running]))
        .values(status=RunStatus.aborted, finished_at=utcnow())
    ).rowcount
    if not changed:
        raise APIError(f"run {run.id} ended meanwhile", status=409)
    request.db.refresh(run)


# -- schedules -----------------------------------------------------------------------------


def next_run_at(schedule: Schedule, after: dt.datetime) -> dt.datetime:
    """The first time after ``after`` the schedule fires, in UTC."""
    if schedule.cron is not None:
        local = after.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
        return croniter(schedule.cron, local).get_next(dt.datetime).astimezone(dt.UTC)
    step = dt.timedelta(seconds=schedule.interval_seconds)
    if schedule.next_run_at is None:
        return after + step
    # Fires missed while nothing ran are skipped, not made up in a burst.
    missed = max(0, (after - schedule.next_run_at) // step)
    return schedule.next_run_at + (missed + 1) * step


def launch_due_schedules(request: Any, now: dt.datetime | None = None) -> list[Run]:
    """Launch a run for every enabled schedule that is due; each fire launches once.

    Several schedulers may look at once: a schedule is claimed by moving its
    ``next_run_at`` on with a conditional update, and only the claimer launches.
    A preset that no longer launches (template gone, variables no longer fit)
    gives a failed run saying why, so the schedule's owner sees it.
    """
    now = now or utcnow()
    db = request.db
    launched = []
    due = db.scalars(select(Schedule).where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)).all()
    for schedule in due:
        claimed = db.execute(
            update(Schedule)
            .where(Schedule.id == schedule.id, Schedule.next_run_at == schedule.next_run_at)
            .values(next_run_at=next_run_at(schedule, now), last_run_at=now)
        ).rowcount
        if not claimed:
            continue
        preset = schedule.preset
        try:
            run = launch_preset(request, preset, created_by_id=schedule.created_by_id, schedule_id=schedule.id)
        except Invalid as exc:
            run = Run(
                name=preset.name,
                template=preset.template,
                inventory_id=preset.inventory_id,
                variables=preset.variables,
                filters=preset.filters,
                status=RunStatus.failed,
                error=exc.message,
                finished_at=now,
                created_by_id=schedule.created_by_id,
                preset_id=preset.id,
                schedule_id=schedule.id,
            )
            db.add(run)
        launched.append(run)
    db.flush()
    return launched


def launch_preset(request: Any, preset: Preset, **options: Any) -> Run:
    """Launch a preset as saved; :class:`Invalid` when its template is gone or its variables no longer fit."""
    template = request.registry.job_templates.require(preset.template)
    variables = template.validate(preset.variables)
    return launch_run(
        request,
        template,
        preset.inventory_id,
        variables,
        preset.filters,
        name=preset.name,
        preset_id=preset.id,
        **options,
    )
