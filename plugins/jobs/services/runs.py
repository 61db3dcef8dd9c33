"""Templates, runs and presets: launching, aborting, relaunching failed hosts, failing lost runs; the runner configuration."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from pyramidion.api import Conflict, Filter, Invalid, Listing, ensure_unique, get_or_404
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from .. import schemas as s
from ..catalogue import JobTemplate, TemplateCatalogue
from ..interfaces import IJobRunner
from ..models import HostStatus, Preset, Run, RunHost, RunnerConfiguration, RunStatus
from ..realtime import run_topic
from .access import CONFIGURE, RUN, require
from .inventories import check_hosts_exist, check_inventory

log = logging.getLogger(__name__)

# -- templates -------------------------------------------------------------------------


def list_templates(templates: TemplateCatalogue, query: s.TemplateQuery, url: str) -> dict[str, Any]:
    """A page of the catalogue in name order, like every list: ``{count, next, previous, results}``.

    The catalogue lives in memory (templates are functions, not rows), so
    the page is cut here rather than by :class:`~pyramidion.api.Listing`.
    ``url``: the list's own address, for the ``next`` and ``previous`` links.
    """
    term = query.search.strip().casefold()
    found = [t for t in templates if term in t.name.casefold() or term in t.description.casefold()]
    end = query.offset + query.limit

    def link(offset: int) -> str:
        params = {"limit": query.limit, "offset": offset, **({"search": query.search} if query.search else {})}
        return f"{url}?{urlencode(params)}"

    return {
        "count": len(found),
        "next": link(end) if end < len(found) else None,
        "previous": link(max(query.offset - query.limit, 0)) if query.offset > 0 else None,
        "results": found[query.offset : end],
    }


def get_template(templates: TemplateCatalogue, name: str) -> JobTemplate:
    """The template ``name``, or a 404."""
    template = templates.get(name)
    if template is None:
        raise HTTPNotFound(f"no such job template: {name!r}")
    return template


# -- runs ------------------------------------------------------------------------------------

run_listing = Listing(
    key=Run.id,
    ordering={
        "id": Run.id,
        "name": Run.name,
        "template": Run.template,
        "status": Run.status,
        "created_at": Run.created_at,
        "started_at": Run.started_at,
    },
    default_ordering="-id",
    search=[Run.name],
    filters={
        "status": Filter(Run.status, RunStatus),
        "template": Filter(Run.template),
        "inventory_id": Filter(Run.inventory_id, int),
        "created_by_id": Filter(Run.created_by_id, int),
        "preset_id": Filter(Run.preset_id, int),
        "schedule_id": Filter(Run.schedule_id, int),
    },
)

run_host_listing = Listing(
    key=RunHost.id,
    ordering={"host": RunHost.host, "status": RunHost.status, "finished_at": RunHost.finished_at},
    default_ordering="host",
    search=[RunHost.host],
    filters={
        "status": Filter(RunHost.status, HostStatus),
        "failed": Filter(RunHost.failed, bool),
        "changed": Filter(RunHost.changed, bool),
    },
)


def list_runs(query: Any) -> dict[str, Any]:
    """A page of runs (``query`` parsed by :data:`run_listing`), newest first by default."""
    return query.page(select(Run))


def get_run(db: Session, run_id: Any) -> Run:
    """The run, or a 404."""
    return get_or_404(db, Run, run_id, what="run")


def list_run_hosts(db: Session, query: Any, run_id: Any) -> dict[str, Any]:
    """A page of a run's results per host (``query`` parsed by :data:`run_host_listing`)."""
    run = get_run(db, run_id)
    return query.page(select(RunHost).where(RunHost.run_id == run.id))


def start_run(
    db: Session,
    runner: IJobRunner,
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
    """Record a run and hand it to the runner; ``variables`` are checked already.

    No permission check: this is the step every launch shares, for callers
    that checked already (the use cases here, the scheduler, the benchmark).
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
    db.add(run)
    db.flush()
    run.queue_task_id = runner.start(run, sensitive)
    return run


def launch(db: Session, caller: Identity, templates: TemplateCatalogue, runner: IJobRunner, body: s.LaunchIn) -> Run:
    """Launch a template on an inventory, now or at ``scheduled_at``; the run goes on in the background."""
    require(db, caller, RUN)
    template = templates.require(body.template)
    variables = template.validate(body.variables)
    check_inventory(db, body.inventory_id)
    filters = body.filters.model_dump(exclude_none=True)
    check_hosts_exist(db, body.inventory_id, filters.get("hosts"))
    return start_run(
        db,
        runner,
        template,
        body.inventory_id,
        variables,
        filters,
        name=body.name,
        scheduled_at=body.scheduled_at,
        created_by_id=caller.user.id,
    )


def abort(db: Session, caller: Identity, realtime: Any, run_id: Any) -> Run:
    """Abort a waiting or running run; a running one stops before its next host or subtask.

    ``realtime``: ``request.realtime``, which tells the run's followers once the abort commits.
    """
    require(db, caller, RUN)
    run = get_run(db, run_id)
    if RunStatus(run.status).is_done:
        raise Conflict(f"run {run.id} is {run.status.value} already")
    # Conditional, so a run finishing at this moment is not turned into an aborted one.
    changed = db.execute(
        update(Run)
        .where(Run.id == run.id, Run.status.in_([RunStatus.created, RunStatus.scheduled, RunStatus.running]))
        .values(status=RunStatus.aborted, finished_at=utcnow())
    ).rowcount
    if not changed:
        raise Conflict(f"run {run.id} ended meanwhile")
    db.refresh(run)
    realtime.publish(run_topic(run.id), {"run": run.id, "status": RunStatus.aborted.value})
    return run


def relaunch_failed(
    db: Session,
    caller: Identity,
    templates: TemplateCatalogue,
    runner: IJobRunner,
    run_id: Any,
    body: s.RelaunchIn,
) -> Run:
    """Run the same again on the hosts that failed; sensitive values must be given again."""
    require(db, caller, RUN)
    run = get_run(db, run_id)
    if not RunStatus(run.status).is_done:
        raise Conflict(f"run {run.id} is {run.status.value}: relaunch it when it has ended")
    failed = list(
        db.scalars(
            select(RunHost.host).where(RunHost.run_id == run.id, RunHost.failed.is_(True)).order_by(RunHost.host)
        )
    )
    if not failed:
        raise Conflict(f"run {run.id} has no failed hosts")
    if run.inventory_id is None:
        raise Conflict(f"the inventory of run {run.id} was deleted")
    template = templates.get(run.template)
    if template is None:
        raise Conflict(f"the template {run.template!r} of run {run.id} is no longer installed")
    unknown = sorted(set(body.variables) - template.sensitive)
    if unknown:
        raise Invalid(
            "only sensitive parameters are given again",
            [
                {"field": f"variables.{name}", "location": "body", "message": "not a sensitive parameter"}
                for name in unknown
            ],
        )
    variables = template.validate({**run.variables, **body.variables})
    filters = {**run.filters, "hosts": failed}
    check_hosts_exist(db, run.inventory_id, failed)
    return start_run(
        db,
        runner,
        template,
        run.inventory_id,
        variables,
        filters,
        name=run.name,
        created_by_id=caller.user.id,
        relaunch_of_id=run.id,
    )


# -- lost runs: their worker is gone -----------------------------------------------------------

WORKER_LOST = "worker lost: the worker running it stopped renewing its lease (killed, crashed or cut off)"


def mark_lost_runs(db: Session, realtime: Any) -> list[int]:
    """Fail every running run whose lease has expired, and its hosts without a result; returns their ids.

    The run's ``error`` says "worker lost"; it can be relaunched on those
    hosts like any failed run. Each run is failed by an update conditional on
    it still running with an expired lease, the same row its worker's renewal
    updates: a worker renewing meanwhile keeps its run, and one coming back
    later finds it failed and stops (see :mod:`pyramidion_jobs.runner`).
    A run without a lease (started before leases existed) counts as expired.
    ``realtime``: ``request.realtime``; followers hear of it once this commits.
    """
    now = utcnow()
    expired = and_(Run.status == RunStatus.running, or_(Run.lease_expires_at.is_(None), Run.lease_expires_at < now))
    lost = []
    for run_id in list(db.scalars(select(Run.id).where(expired))):
        failed = db.execute(
            update(Run)
            .where(Run.id == run_id, expired)
            .values(status=RunStatus.failed, error=WORKER_LOST, finished_at=now, lease_expires_at=None)
        ).rowcount
        if not failed:
            continue
        template, selected = db.execute(select(Run.template, Run.selected_hosts).where(Run.id == run_id)).one()
        done = set(db.scalars(select(RunHost.host).where(RunHost.run_id == run_id)))
        pending = [host for host in selected or [] if host not in done]
        if pending:
            node = {
                "name": template,
                "result": None,
                "changed": False,
                "diff": "",
                "failed": True,
                "exception": f"WorkerLost: {WORKER_LOST}",
                "subtasks": [],
            }
            db.execute(
                insert(RunHost),
                [
                    {"run_id": run_id, "host": host, "status": HostStatus.failed, "failed": True, "result": [node]}
                    for host in pending
                ],
            )
        total, failed_hosts = db.execute(
            select(func.count(), func.count().filter(RunHost.failed.is_(True))).where(RunHost.run_id == run_id)
        ).one()
        db.execute(update(Run).where(Run.id == run_id).values(hosts_total=total, hosts_failed=failed_hosts))
        log.warning(
            "run %s failed: worker lost (its lease had expired); %d host(s) without a result marked failed",
            run_id,
            len(pending),
        )
        topic = run_topic(run_id)
        if pending:
            at = now.isoformat()
            realtime.publish(
                topic, {"run": run_id, "hosts": [{"host": h, "event": "failed", "at": at} for h in pending]}
            )
        realtime.publish(topic, {"run": run_id, "status": RunStatus.failed.value})
        lost.append(run_id)
    return lost


# -- presets -----------------------------------------------------------------------------------

preset_listing = Listing(
    key=Preset.id,
    ordering={"id": Preset.id, "name": Preset.name, "template": Preset.template},
    default_ordering="name",
    search=[Preset.name, Preset.description],
    filters={"template": Filter(Preset.template), "inventory_id": Filter(Preset.inventory_id, int)},
)


def list_presets(query: Any) -> dict[str, Any]:
    """A page of presets (``query`` parsed by :data:`preset_listing`)."""
    return query.page(select(Preset))


def preset_choices(db: Session) -> list[tuple[int, str]]:
    """Every preset as ``(id, name)``, by name: what a schedule form offers."""
    return [(row.id, row.name) for row in db.execute(select(Preset.id, Preset.name).order_by(Preset.name))]


def get_preset(db: Session, preset_id: Any) -> Preset:
    """The preset, or a 404."""
    return get_or_404(db, Preset, preset_id, what="preset")


def _refuse_sensitive(template: JobTemplate) -> None:
    """Presets and schedules are stored: a template with sensitive parameters cannot be saved."""
    if template.sensitive:
        raise Invalid(
            f"template {template.name!r} has sensitive parameters, which are never stored,"
            " so it cannot be saved or scheduled",
            [
                {"field": f"variables.{name}", "location": "body", "message": "sensitive: cannot be stored"}
                for name in sorted(template.sensitive)
            ],
        )


def _fill_preset(db: Session, templates: TemplateCatalogue, preset: Preset, body: s.PresetIn) -> Preset:
    template = templates.require(body.template)
    _refuse_sensitive(template)
    check_inventory(db, body.inventory_id)
    filters = body.filters.model_dump(exclude_none=True)
    check_hosts_exist(db, body.inventory_id, filters.get("hosts"))
    preset.name = body.name
    preset.description = body.description
    preset.template = template.name
    preset.inventory_id = body.inventory_id
    preset.variables = template.validate(body.variables)
    preset.filters = filters
    return preset


def create_preset(db: Session, caller: Identity, templates: TemplateCatalogue, body: s.PresetIn) -> Preset:
    """Save a launch configuration (templates with sensitive parameters cannot be saved)."""
    require(db, caller, RUN)
    ensure_unique(db, Preset.name, body.name)
    preset = _fill_preset(db, templates, Preset(created_by_id=caller.user.id), body)
    db.add(preset)
    db.flush()
    return preset


def replace_preset(
    db: Session, caller: Identity, templates: TemplateCatalogue, preset_id: Any, body: s.PresetIn
) -> Preset:
    """Replace a preset."""
    require(db, caller, RUN)
    preset = get_preset(db, preset_id)
    ensure_unique(db, Preset.name, body.name, exclude=preset.id)
    return _fill_preset(db, templates, preset, body)


def delete_preset(db: Session, caller: Identity, preset_id: Any) -> None:
    """Delete a preset and its schedules."""
    require(db, caller, RUN)
    db.delete(get_preset(db, preset_id))


def start_preset(db: Session, templates: TemplateCatalogue, runner: IJobRunner, preset: Preset, **options: Any) -> Run:
    """Launch ``preset`` as saved; :class:`Invalid` when its template is gone or its variables no longer fit."""
    template = templates.require(preset.template)
    variables = template.validate(preset.variables)
    return start_run(
        db,
        runner,
        template,
        preset.inventory_id,
        variables,
        preset.filters,
        name=preset.name,
        preset_id=preset.id,
        **options,
    )


def launch_preset(
    db: Session,
    caller: Identity,
    templates: TemplateCatalogue,
    runner: IJobRunner,
    preset_id: Any,
    scheduled_at: dt.datetime | None = None,
) -> Run:
    """Launch a preset, now or at ``scheduled_at``."""
    require(db, caller, RUN)
    preset = get_preset(db, preset_id)
    return start_preset(db, templates, runner, preset, scheduled_at=scheduled_at, created_by_id=caller.user.id)


# -- runner configuration ------------------------------------------------------------------------


def runner_configuration(db: Session) -> RunnerConfiguration:
    """The Nornir runner every run uses."""
    return RunnerConfiguration.current(db)


def change_configuration(db: Session, caller: Identity, body: s.ConfigurationIn) -> RunnerConfiguration:
    """Change the Nornir runner (administrators)."""
    require(db, caller, CONFIGURE)
    configuration = db.merge(RunnerConfiguration.current(db))
    configuration.runner = body.runner
    configuration.num_workers = body.num_workers
    return configuration
