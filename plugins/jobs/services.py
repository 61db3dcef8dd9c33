"""The jobs plugin's business rules: one function per use case.

The JSON API (:mod:`.views`), the console pages (:mod:`.console`) and the
background tasks (:mod:`.tasks`) all call these, so a rule or a permission
check is written once. Each takes the database session and the caller (the
:class:`~pyramidion.auth.Identity` acting), then what the use case needs
from the app: the template catalogue (``request.registry.job_templates``),
the credentials cipher (``request.registry.jobs_cipher``), the runner
(``request.find_service(IJobRunner)``). They raise the API's errors:
:class:`Invalid` (422), :class:`Conflict` (409), ``HTTPForbidden`` (403) and
``HTTPNotFound`` (404).

Reading needs no more than a login (checked by the callers' routes);
changing needs ``jobs.inventory`` (inventories), ``jobs.run`` (runs, presets,
schedules) or ``jobs.configure`` (the runner).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from croniter import croniter
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from pyramidion.api import Conflict, Filter, Invalid, Listing, ensure_unique, get_or_404
from pyramidion.auth import Identity
from pyramidion.db import utcnow

from . import schemas as s
from .catalogue import JobTemplate, TemplateCatalogue
from .credentials import Cipher
from .interfaces import IJobRunner
from .inventory import InventoryFormatError, import_simple_inventory, merged_host, set_element_fields, set_group_links
from .models import (
    HostStatus,
    Inventory,
    InventoryDefaults,
    InventoryGroup,
    InventoryGroupParent,
    InventoryHost,
    InventoryHostGroup,
    Preset,
    Run,
    RunHost,
    RunnerConfiguration,
    RunStatus,
    Schedule,
)
from .realtime import run_topic

RUN = "jobs.run"
INVENTORY = "jobs.inventory"
CONFIGURE = "jobs.configure"

PERMISSIONS = {
    RUN: "launch, abort and relaunch runs; manage presets and schedules",
    INVENTORY: "create, change and delete inventories, their hosts, groups and defaults",
    CONFIGURE: "change the Nornir runner configuration",
}

# The original's groups: superuser may do everything, netadmin runs jobs,
# support looks on (reading needs no more than a login).
DEFAULT_GROUPS = {"superuser": list(PERMISSIONS), "netadmin": [RUN], "support": []}

Member = InventoryHost | InventoryGroup


def may(db: Session, caller: Identity | None, permission: str) -> bool:
    """Whether ``caller`` holds ``permission`` (superusers hold every one)."""
    if caller is None:
        return False
    return caller.user.is_superuser or permission in caller.permissions(db)


def _require(db: Session, caller: Identity | None, permission: str) -> None:
    if not may(db, caller, permission):
        raise HTTPForbidden(f"permission denied: {permission} is needed")


# -- templates -------------------------------------------------------------------------


def get_template(templates: TemplateCatalogue, name: str) -> JobTemplate:
    """The template ``name``, or a 404."""
    template = templates.get(name)
    if template is None:
        raise HTTPNotFound(f"no such job template: {name!r}")
    return template


# -- inventories ---------------------------------------------------------------------------

inventory_listing = Listing(
    key=Inventory.id,
    ordering={"id": Inventory.id, "name": Inventory.name, "created_at": Inventory.created_at},
    default_ordering="name",
    search=[Inventory.name, Inventory.description],
)


def _member_listing(model: type[Member]) -> Listing:
    filters = {
        "name": Filter(model.name, lookup="contains", description="name contains"),
        "hostname": Filter(model.hostname, lookup="contains", description="hostname contains"),
        "platform": Filter(model.platform, lookup="contains", description="platform contains"),
    }
    if model is InventoryHost:
        filters["group"] = Filter(
            lambda name: InventoryHost.group_links.any(InventoryHostGroup.group.has(InventoryGroup.name == name)),
            description="member of this group (directly)",
        )
    return Listing(
        key=model.id,
        ordering={
            "name": model.name,
            "hostname": model.hostname,
            "platform": model.platform,
            "port": model.port,
            "id": model.id,
        },
        default_ordering="name",
        search=[model.name, model.hostname],
        filters=filters,
    )


host_listing = _member_listing(InventoryHost)
group_listing = _member_listing(InventoryGroup)


def list_inventories(query: Any) -> dict[str, Any]:
    """A page of inventories (``query`` parsed by :data:`inventory_listing`)."""
    return query.page(select(Inventory))


def get_inventory(db: Session, inventory_id: Any) -> Inventory:
    """The inventory, or a 404."""
    return get_or_404(db, Inventory, inventory_id, what="inventory")


def create_inventory(db: Session, caller: Identity, body: s.InventoryIn) -> Inventory:
    """A new, empty inventory."""
    _require(db, caller, INVENTORY)
    ensure_unique(db, Inventory.name, body.name)
    inventory = Inventory(name=body.name, description=body.description, created_by_id=caller.user.id)
    inventory.defaults = InventoryDefaults(data={})
    db.add(inventory)
    db.flush()
    return inventory


def import_inventory(db: Session, caller: Identity, cipher: Cipher, body: s.InventoryImport) -> dict[str, Any]:
    """A new inventory from SimpleInventory YAML: ``{inventory, hosts, groups}`` (how many were added)."""
    _require(db, caller, INVENTORY)
    ensure_unique(db, Inventory.name, body.name)
    inventory = Inventory(name=body.name, description=body.description, created_by_id=caller.user.id)
    db.add(inventory)
    try:
        hosts, groups = import_simple_inventory(db, inventory, cipher, body.hosts, body.groups, body.defaults)
    except InventoryFormatError as exc:
        field = str(exc).split(":", 1)[0].split(".", 1)[0]
        raise Invalid(str(exc), [{"field": field, "location": "body", "message": str(exc)}]) from None
    return {"inventory": inventory, "hosts": hosts, "groups": groups}


def change_inventory(db: Session, caller: Identity, inventory_id: Any, body: s.InventoryPatch) -> Inventory:
    """Rename or describe an inventory."""
    _require(db, caller, INVENTORY)
    inventory = get_inventory(db, inventory_id)
    changes = body.changes()
    if "name" in changes:
        ensure_unique(db, Inventory.name, changes["name"], exclude=inventory.id)
    for field, value in changes.items():
        setattr(inventory, field, value)
    return inventory


def delete_inventory(db: Session, caller: Identity, inventory_id: Any) -> None:
    """Delete an inventory with its hosts, groups and presets; past runs stay, without it."""
    _require(db, caller, INVENTORY)
    db.delete(get_inventory(db, inventory_id))


def get_defaults(db: Session, inventory_id: Any) -> InventoryDefaults:
    """The inventory's defaults (empty ones when none were stored)."""
    inventory = get_inventory(db, inventory_id)
    return inventory.defaults or InventoryDefaults(inventory_id=inventory.id, data={})


def change_defaults(
    db: Session, caller: Identity, cipher: Cipher, inventory_id: Any, body: s.ElementPatch
) -> InventoryDefaults:
    """Change the defaults; fields left out stay as they are."""
    _require(db, caller, INVENTORY)
    inventory = get_inventory(db, inventory_id)
    if inventory.defaults is None:
        inventory.defaults = InventoryDefaults(data={})
    set_element_fields(inventory.defaults, s.element_values(body), cipher)
    return inventory.defaults


def list_members(db: Session, query: Any, model: type[Member], inventory_id: Any) -> dict[str, Any]:
    """A page of the inventory's hosts or groups (``query`` from :data:`host_listing` / :data:`group_listing`)."""
    inventory = get_inventory(db, inventory_id)
    links = InventoryHost.group_links if model is InventoryHost else InventoryGroup.parent_links
    return query.page(select(model).where(model.inventory_id == inventory.id).options(selectinload(links)))


def get_member(db: Session, model: type[Member], inventory_id: Any, name: str) -> Member:
    """The host or group ``name`` of the inventory, or a 404."""
    inventory = get_inventory(db, inventory_id)
    row = db.scalar(select(model).where(model.inventory_id == inventory.id, model.name == name))
    if row is None:
        what = "host" if model is InventoryHost else "group"
        raise HTTPNotFound(f"no {what} {name!r} in inventory {inventory.id}")
    return row


def host_detail(db: Session, cipher: Cipher, inventory_id: Any, name: str) -> dict[str, Any]:
    """A host with the data it inherits from its groups and the defaults, as Nornir resolves it."""
    row = get_member(db, InventoryHost, inventory_id, name)
    merged = merged_host(db, row.inventory_id, row.name, cipher)
    return {
        **merged,
        "id": row.id,
        "password_set": row.password_set,
        "connection_options_set": row.connection_options_set,
    }


def create_member(
    db: Session, caller: Identity, cipher: Cipher, model: type[Member], inventory_id: Any, body: s.MemberIn
) -> Member:
    """Add a host or a group to the inventory."""
    _require(db, caller, INVENTORY)
    inventory = get_inventory(db, inventory_id)
    ensure_unique(db, model.name, body.name, model.inventory_id == inventory.id)
    row = model(inventory_id=inventory.id, name=body.name, data={})
    set_element_fields(row, s.element_values(body), cipher)
    db.add(row)
    db.flush()
    _link_groups(db, row, inventory.id, body.groups)
    return row


def change_member(
    db: Session,
    caller: Identity,
    cipher: Cipher,
    model: type[Member],
    inventory_id: Any,
    name: str,
    body: s.MemberPatch,
) -> Member:
    """Change a host or a group; fields left out stay, ``"password": null`` removes the password."""
    _require(db, caller, INVENTORY)
    row = get_member(db, model, inventory_id, name)
    changes = body.changes()
    if "name" in changes and changes["name"] != row.name:
        ensure_unique(db, model.name, changes["name"], model.inventory_id == row.inventory_id)
        row.name = changes["name"]
    set_element_fields(row, s.element_values(body), cipher)
    if "groups" in changes:
        _link_groups(db, row, row.inventory_id, changes["groups"])
    return row


def delete_member(db: Session, caller: Identity, model: type[Member], inventory_id: Any, name: str) -> None:
    """Delete a host, or a group (its members no longer inherit from it)."""
    _require(db, caller, INVENTORY)
    db.delete(get_member(db, model, inventory_id, name))


def _link_groups(db: Session, row: Member, inventory_id: int, names: list[str]) -> None:
    if isinstance(row, InventoryGroup) and row.name in names:
        raise Invalid.field("groups", "a group cannot be its own parent")
    missing = set_group_links(db, row, inventory_id, names)
    if missing:
        raise Invalid.field("groups", f"no such group(s) in the inventory: {', '.join(missing)}")
    if isinstance(row, InventoryGroup):
        db.flush()
        _refuse_cycles(db, inventory_id)


def _refuse_cycles(db: Session, inventory_id: int) -> None:
    links = db.execute(
        select(InventoryGroupParent.group_id, InventoryGroupParent.parent_id)
        .join(InventoryGroup, InventoryGroup.id == InventoryGroupParent.group_id)
        .where(InventoryGroup.inventory_id == inventory_id)
    ).all()
    parents: dict[int, list[int]] = {}
    for child, parent in links:
        parents.setdefault(child, []).append(parent)

    def reaches(start: int, target: int, seen: set[int]) -> bool:
        for parent in parents.get(start, ()):
            if parent == target or (parent not in seen and reaches(parent, target, seen | {parent})):
                return True
        return False

    if any(reaches(group, group, set()) for group in parents):
        raise Invalid.field("groups", "the groups would inherit from themselves")


def _check_inventory(db: Session, inventory_id: int) -> None:
    if db.get(Inventory, inventory_id) is None:
        raise Invalid.field("inventory_id", f"no inventory {inventory_id}")


def _check_hosts_exist(db: Session, inventory_id: int, names: list[str] | None) -> None:
    if not names:
        return
    found = set(
        db.scalars(
            select(InventoryHost.name).where(InventoryHost.inventory_id == inventory_id, InventoryHost.name.in_(names))
        )
    )
    missing = [name for name in names if name not in found]
    if missing:
        raise Invalid.field("filters.hosts", f"no such host(s) in the inventory: {', '.join(missing)}")


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
    _require(db, caller, RUN)
    template = templates.require(body.template)
    variables = template.validate(body.variables)
    _check_inventory(db, body.inventory_id)
    filters = body.filters.model_dump(exclude_none=True)
    _check_hosts_exist(db, body.inventory_id, filters.get("hosts"))
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
    _require(db, caller, RUN)
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
    _require(db, caller, RUN)
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
    _check_hosts_exist(db, run.inventory_id, failed)
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
    _check_inventory(db, body.inventory_id)
    filters = body.filters.model_dump(exclude_none=True)
    _check_hosts_exist(db, body.inventory_id, filters.get("hosts"))
    preset.name = body.name
    preset.description = body.description
    preset.template = template.name
    preset.inventory_id = body.inventory_id
    preset.variables = template.validate(body.variables)
    preset.filters = filters
    return preset


def create_preset(db: Session, caller: Identity, templates: TemplateCatalogue, body: s.PresetIn) -> Preset:
    """Save a launch configuration (templates with sensitive parameters cannot be saved)."""
    _require(db, caller, RUN)
    ensure_unique(db, Preset.name, body.name)
    preset = _fill_preset(db, templates, Preset(created_by_id=caller.user.id), body)
    db.add(preset)
    db.flush()
    return preset


def replace_preset(
    db: Session, caller: Identity, templates: TemplateCatalogue, preset_id: Any, body: s.PresetIn
) -> Preset:
    """Replace a preset."""
    _require(db, caller, RUN)
    preset = get_preset(db, preset_id)
    ensure_unique(db, Preset.name, body.name, exclude=preset.id)
    return _fill_preset(db, templates, preset, body)


def delete_preset(db: Session, caller: Identity, preset_id: Any) -> None:
    """Delete a preset and its schedules."""
    _require(db, caller, RUN)
    db.delete(get_preset(db, preset_id))


def _start_preset(db: Session, templates: TemplateCatalogue, runner: IJobRunner, preset: Preset, **options: Any) -> Run:
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
    _require(db, caller, RUN)
    preset = get_preset(db, preset_id)
    return _start_preset(db, templates, runner, preset, scheduled_at=scheduled_at, created_by_id=caller.user.id)


# -- schedules -----------------------------------------------------------------------------

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
    _require(db, caller, RUN)
    ensure_unique(db, Schedule.name, body.name)
    schedule = _fill_schedule(db, Schedule(created_by_id=caller.user.id), body)
    db.add(schedule)
    db.flush()
    return schedule


def replace_schedule(db: Session, caller: Identity, schedule_id: Any, body: s.ScheduleIn) -> Schedule:
    """Replace a schedule; its next run is worked out again when its timing changed."""
    _require(db, caller, RUN)
    schedule = get_schedule(db, schedule_id)
    ensure_unique(db, Schedule.name, body.name, exclude=schedule.id)
    return _fill_schedule(db, schedule, body)


def delete_schedule(db: Session, caller: Identity, schedule_id: Any) -> None:
    """Delete a schedule; the runs it launched stay."""
    _require(db, caller, RUN)
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
            run = _start_preset(
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


# -- runner configuration ------------------------------------------------------------------------


def runner_configuration(db: Session) -> RunnerConfiguration:
    """The Nornir runner every run uses."""
    return RunnerConfiguration.current(db)


def change_configuration(db: Session, caller: Identity, body: s.ConfigurationIn) -> RunnerConfiguration:
    """Change the Nornir runner (administrators)."""
    _require(db, caller, CONFIGURE)
    configuration = db.merge(RunnerConfiguration.current(db))
    configuration.runner = body.runner
    configuration.num_workers = body.num_workers
    return configuration
