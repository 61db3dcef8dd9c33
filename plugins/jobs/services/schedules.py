"""Schedules: presets launched on a cron expression or an interval, in a time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pyramidion.api import Filter, Invalid, Listing, ensure_unique, get_or_404
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from .. import schemas as s
from ..catalogue import TemplateCatalogue
from ..interfaces import IJobRunner
from ..models import Preset, Run, RunStatus, Schedule
from .access import RUN, require
from .runs import start_preset

schedule_listing = Listing(
    key=Schedule.id,
    ordering={"id": Schedule.id, "name": Schedule.name, "next_run_at": Schedule.next_run_at},
    default_ordering="name",
    search=[Schedule.name],
    filters={"preset_id": Filter(Schedule.preset_id, int), "enabled": Filter(Schedule.enabled, bool)},
)


def list_schedules(query: Any) -> dict[str, Any]:
    """A page of schedules (``query`` parsed by :data:`schedule_listing`)."""
    return query.page(select(Schedule))


def get_schedule(db: Session, schedule_id: Any) -> Schedule:
    """The schedule, or a 404."""
    return get_or_404(db, Schedule, schedule_id, what="schedule")


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


def _fill_schedule(db: Session, schedule: Schedule, body: s.ScheduleIn) -> Schedule:
    if db.get(Preset, body.preset_id) is None:
        raise Invalid.field("preset_id", f"no preset {body.preset_id}")
    timing_changed = (schedule.cron, schedule.interval_seconds, schedule.timezone) != (
        body.cron,
        body.interval_seconds,
        body.timezone,
    )
    for field in ("name", "preset_id", "cron", "interval_seconds", "timezone", "enabled"):
        setattr(schedule, field, getattr(body, field))
    if timing_changed or schedule.next_run_at is None:
        schedule.next_run_at = None  # counted afresh from now
        schedule.next_run_at = next_run_at(schedule, utcnow())
    return schedule


def create_schedule(db: Session, caller: Identity, body: s.ScheduleIn) -> Schedule:
    """Schedule a preset."""
    require(db, caller, RUN)
    ensure_unique(db, Schedule.name, body.name)
    schedule = _fill_schedule(db, Schedule(created_by_id=caller.user.id), body)
    db.add(schedule)
    db.flush()
    return schedule


def replace_schedule(db: Session, caller: Identity, schedule_id: Any, body: s.ScheduleIn) -> Schedule:
    """Replace a schedule; its next run is worked out again when its timing changed."""
    require(db, caller, RUN)
    schedule = get_schedule(db, schedule_id)
    ensure_unique(db, Schedule.name, body.name, exclude=schedule.id)
    return _fill_schedule(db, schedule, body)


def delete_schedule(db: Session, caller: Identity, schedule_id: Any) -> None:
    """Delete a schedule; the runs it launched stay."""
    require(db, caller, RUN)
    db.delete(get_schedule(db, schedule_id))


def launch_due_schedules(
    db: Session, templates: TemplateCatalogue, runner: IJobRunner, now: dt.datetime | None = None
) -> list[Run]:
    """Launch a run for every enabled schedule that is due; each fire launches once.

    Several schedulers may look at once: a schedule is claimed by moving its
    ``next_run_at`` on with a conditional update, and only the claimer launches.
    A preset that no longer launches (template gone, variables no longer fit)
    gives a failed run saying why, so the schedule's owner sees it. The run is
    the schedule owner's, as if they had launched the preset.
    """
    now = now or utcnow()
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
            run = start_preset(
                db, templates, runner, preset, created_by_id=schedule.created_by_id, schedule_id=schedule.id
            )
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
