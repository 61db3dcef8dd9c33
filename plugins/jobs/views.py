"""The jobs API under ``/api/jobs``: templates, inventories, runs, presets, schedules, configuration.

Reading needs a login; changing needs ``jobs.inventory`` (inventories),
``jobs.run`` (runs, presets, schedules) or ``jobs.configure`` (the runner).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pyramidion.api import Conflict, Filter, Invalid, Listing, Page, api_view, ensure_unique
from pyramidion.db import utcnow

from . import schemas as s
from .execution import topic
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
from .service import abort_run, check_hosts_exist, launch_preset, launch_run, next_run_at, no_sensitive_values
from .templates import JobTemplate


def _user_id(request: Any) -> int:
    return request.identity.user.id


def _get(request: Any, model: type, ident: Any, what: str) -> Any:
    row = request.db.get(model, ident)
    if row is None:
        raise HTTPNotFound(f"no {what} {ident}")
    return row


def _inventory(request: Any) -> Inventory:
    return _get(request, Inventory, int(request.matchdict["id"]), "inventory")


def _member(request: Any, model: type[InventoryHost] | type[InventoryGroup]) -> InventoryHost | InventoryGroup:
    inventory = _inventory(request)
    name = request.matchdict["name"]
    row = request.db.scalar(select(model).where(model.inventory_id == inventory.id, model.name == name))
    if row is None:
        what = "host" if model is InventoryHost else "group"
        raise HTTPNotFound(f"no {what} {name!r} in inventory {inventory.id}")
    return row


# -- templates -------------------------------------------------------------------------


def _template_out(template: JobTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "description": template.description,
        "source": template.source,
        "parameters": template.schema(),
        "sensitive": sorted(template.sensitive),
    }


@api_view("jobs.templates", response=list[s.TemplateOut])
def list_templates(request: Any) -> list[dict[str, Any]]:
    """Job templates with the JSON Schema of their parameters."""
    return [_template_out(t) for t in request.registry.job_templates]


@api_view("jobs.template", response=s.TemplateOut)
def show_template(request: Any) -> dict[str, Any]:
    """One job template."""
    template = request.registry.job_templates.get(request.matchdict["name"])
    if template is None:
        raise HTTPNotFound(f"no job template {request.matchdict['name']!r}")
    return _template_out(template)


# -- inventories ---------------------------------------------------------------------------

inventories = Listing(
    key=Inventory.id,
    ordering={"id": Inventory.id, "name": Inventory.name, "created_at": Inventory.created_at},
    default_ordering="name",
    search=[Inventory.name, Inventory.description],
)


@api_view("jobs.inventories", query=inventories, response=Page[s.InventoryOut])
def list_inventories(request: Any, query: Any) -> dict[str, Any]:
    """Inventories."""
    return query.page(select(Inventory))


@api_view(
    "jobs.inventories",
    request_method="POST",
    body=s.InventoryIn,
    response=s.InventoryOut,
    status=201,
    permission="jobs.inventory",
)
def create_inventory(request: Any, body: s.InventoryIn) -> Inventory:
    """Create an empty inventory."""
    ensure_unique(request.db, Inventory.name, body.name)
    inventory = Inventory(name=body.name, description=body.description, created_by_id=_user_id(request))
    inventory.defaults = InventoryDefaults(data={})
    request.db.add(inventory)
    request.db.flush()
    return inventory


@api_view(
    "jobs.inventory_import",
    request_method="POST",
    body=s.InventoryImport,
    response=s.ImportOut,
    status=201,
    permission="jobs.inventory",
)
def import_inventory(request: Any, body: s.InventoryImport) -> dict[str, Any]:
    """Create an inventory from Nornir SimpleInventory YAML (hosts, groups, defaults)."""
    ensure_unique(request.db, Inventory.name, body.name)
    inventory = Inventory(name=body.name, description=body.description, created_by_id=_user_id(request))
    request.db.add(inventory)
    try:
        hosts, groups = import_simple_inventory(
            request.db, inventory, request.registry.jobs_cipher, body.hosts, body.groups, body.defaults
        )
    except InventoryFormatError as exc:
        field = str(exc).split(":", 1)[0].split(".", 1)[0]
        raise Invalid(str(exc), [{"field": field, "location": "body", "message": str(exc)}]) from None
    return {"inventory": inventory, "hosts": hosts, "groups": groups}


@api_view("jobs.inventory", response=s.InventoryOut)
def show_inventory(request: Any) -> Inventory:
    """One inventory."""
    return _inventory(request)


@api_view(
    "jobs.inventory",
    request_method="PATCH",
    body=s.InventoryPatch,
    response=s.InventoryOut,
    permission="jobs.inventory",
)
def change_inventory(request: Any, body: s.InventoryPatch) -> Inventory:
    """Rename or describe an inventory."""
    inventory = _inventory(request)
    if body.name is not None:
        ensure_unique(request.db, Inventory.name, body.name, exclude=inventory.id)
        inventory.name = body.name
    if body.description is not None:
        inventory.description = body.description
    return inventory


@api_view("jobs.inventory", request_method="DELETE", status=204, permission="jobs.inventory")
def delete_inventory(request: Any) -> None:
    """Delete an inventory with its hosts, groups and presets; past runs stay, without it."""
    request.db.delete(_inventory(request))


@api_view("jobs.defaults", response=s.ElementOut)
def show_defaults(request: Any) -> InventoryDefaults:
    """The inventory's defaults."""
    inventory = _inventory(request)
    return inventory.defaults or InventoryDefaults(inventory_id=inventory.id, data={})


@api_view("jobs.defaults", request_method="PUT", body=s.ElementIn, response=s.ElementOut, permission="jobs.inventory")
def change_defaults(request: Any, body: s.ElementIn) -> InventoryDefaults:
    """Change the defaults; fields left out stay as they are."""
    inventory = _inventory(request)
    if inventory.defaults is None:
        inventory.defaults = InventoryDefaults(data={})
    set_element_fields(inventory.defaults, body.element_values(), request.registry.jobs_cipher)
    return inventory.defaults


def _link_groups(request: Any, row: InventoryHost | InventoryGroup, inventory_id: int, names: list[str]) -> None:
    if isinstance(row, InventoryGroup) and row.name in names:
        raise Invalid.field("groups", "a group cannot be its own parent")
    missing = set_group_links(request.db, row, inventory_id, names)
    if missing:
        raise Invalid.field("groups", f"no such group(s) in the inventory: {', '.join(missing)}")
    if isinstance(row, InventoryGroup):
        request.db.flush()
        _refuse_cycles(request, inventory_id)


def _refuse_cycles(request: Any, inventory_id: int) -> None:
    links = request.db.execute(
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


def _member_listing(model: type[InventoryHost] | type[InventoryGroup]) -> Listing:
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


hosts = _member_listing(InventoryHost)
groups = _member_listing(InventoryGroup)


@api_view("jobs.hosts", query=hosts, response=Page[s.MemberOut])
def list_hosts(request: Any, query: Any) -> dict[str, Any]:
    """Hosts of an inventory (their own fields; the detail shows what they inherit)."""
    inventory = _inventory(request)
    return query.page(
        select(InventoryHost)
        .where(InventoryHost.inventory_id == inventory.id)
        .options(selectinload(InventoryHost.group_links))
    )


@api_view("jobs.groups", query=groups, response=Page[s.MemberOut])
def list_groups(request: Any, query: Any) -> dict[str, Any]:
    """Groups of an inventory."""
    inventory = _inventory(request)
    return query.page(
        select(InventoryGroup)
        .where(InventoryGroup.inventory_id == inventory.id)
        .options(selectinload(InventoryGroup.parent_links))
    )


def _create_member(
    request: Any, model: type[InventoryHost] | type[InventoryGroup], body: s.MemberIn
) -> InventoryHost | InventoryGroup:
    inventory = _inventory(request)
    ensure_unique(request.db, model.name, body.name, model.inventory_id == inventory.id)
    row = model(inventory_id=inventory.id, name=body.name, data={})
    set_element_fields(row, body.element_values(), request.registry.jobs_cipher)
    request.db.add(row)
    request.db.flush()
    _link_groups(request, row, inventory.id, body.groups)
    return row


def _change_member(
    request: Any, model: type[InventoryHost] | type[InventoryGroup], body: s.MemberPatch
) -> InventoryHost | InventoryGroup:
    row = _member(request, model)
    if body.name is not None and body.name != row.name:
        ensure_unique(request.db, model.name, body.name, model.inventory_id == row.inventory_id)
        row.name = body.name
    set_element_fields(row, body.element_values(), request.registry.jobs_cipher)
    if body.groups is not None:
        _link_groups(request, row, row.inventory_id, body.groups)
    return row


@api_view(
    "jobs.hosts", request_method="POST", body=s.MemberIn, response=s.MemberOut, status=201, permission="jobs.inventory"
)
def create_host(request: Any, body: s.MemberIn) -> InventoryHost:
    """Add a host."""
    return _create_member(request, InventoryHost, body)


@api_view(
    "jobs.groups", request_method="POST", body=s.MemberIn, response=s.MemberOut, status=201, permission="jobs.inventory"
)
def create_group(request: Any, body: s.MemberIn) -> InventoryGroup:
    """Add a group."""
    return _create_member(request, InventoryGroup, body)


@api_view("jobs.host", response=s.HostDetail)
def show_host(request: Any) -> dict[str, Any]:
    """A host with the data it inherits from its groups and the defaults."""
    row = _member(request, InventoryHost)
    merged = merged_host(request.db, row.inventory_id, row.name, request.registry.jobs_cipher)
    return {
        **merged,
        "id": row.id,
        "password_set": row.password_set,
        "connection_options_set": row.connection_options_set,
    }


@api_view("jobs.group", response=s.MemberOut)
def show_group(request: Any) -> InventoryGroup:
    """A group."""
    return _member(request, InventoryGroup)


@api_view("jobs.host", request_method="PATCH", body=s.MemberPatch, response=s.MemberOut, permission="jobs.inventory")
def change_host(request: Any, body: s.MemberPatch) -> InventoryHost:
    """Change a host; fields left out stay, ``"password": null`` removes the password."""
    return _change_member(request, InventoryHost, body)


@api_view("jobs.group", request_method="PATCH", body=s.MemberPatch, response=s.MemberOut, permission="jobs.inventory")
def change_group(request: Any, body: s.MemberPatch) -> InventoryGroup:
    """Change a group."""
    return _change_member(request, InventoryGroup, body)


@api_view("jobs.host", request_method="DELETE", status=204, permission="jobs.inventory")
def delete_host(request: Any) -> None:
    """Delete a host."""
    request.db.delete(_member(request, InventoryHost))


@api_view("jobs.group", request_method="DELETE", status=204, permission="jobs.inventory")
def delete_group(request: Any) -> None:
    """Delete a group; its members no longer inherit from it."""
    request.db.delete(_member(request, InventoryGroup))


# -- runs ------------------------------------------------------------------------------------

runs = Listing(
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


def _launch(
    request: Any,
    template: JobTemplate,
    inventory_id: int,
    variables: dict[str, Any],
    filters: dict[str, Any],
    **options: Any,
) -> Run:
    if request.db.get(Inventory, inventory_id) is None:
        raise Invalid.field("inventory_id", f"no inventory {inventory_id}")
    check_hosts_exist(request.db, inventory_id, filters.get("hosts"))
    return launch_run(request, template, inventory_id, variables, filters, created_by_id=_user_id(request), **options)


@api_view("jobs.runs", query=runs, response=Page[s.RunOut])
def list_runs(request: Any, query: Any) -> dict[str, Any]:
    """Runs, newest first."""
    return query.page(select(Run))


@api_view("jobs.runs", request_method="POST", body=s.LaunchIn, response=s.RunOut, status=202, permission="jobs.run")
def launch(request: Any, body: s.LaunchIn) -> Run:
    """Launch a template on an inventory, now or at ``scheduled_at``; the run goes on in the background."""
    template = request.registry.job_templates.require(body.template)
    variables = template.validate(body.variables)
    return _launch(
        request,
        template,
        body.inventory_id,
        variables,
        body.filters.model_dump(exclude_none=True),
        name=body.name,
        scheduled_at=body.scheduled_at,
    )


@api_view("jobs.run", response=s.RunOut)
def show_run(request: Any) -> Run:
    """One run with its status and host counts; live progress on the WAMP topic ``pyramidion.jobs.run.<id>``."""
    return _get(request, Run, int(request.matchdict["id"]), "run")


run_hosts = Listing(
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


@api_view("jobs.run_hosts", query=run_hosts, response=Page[s.RunHostOut])
def list_run_hosts(request: Any, query: Any) -> dict[str, Any]:
    """The results of a run per host, in Nornir's shape (subtasks nested)."""
    run = _get(request, Run, int(request.matchdict["id"]), "run")
    return query.page(select(RunHost).where(RunHost.run_id == run.id))


@api_view("jobs.run_abort", request_method="POST", response=s.RunOut, permission="jobs.run")
def abort(request: Any) -> Run:
    """Abort a waiting or running run; a running one stops before its next host or subtask."""
    run = _get(request, Run, int(request.matchdict["id"]), "run")
    abort_run(request, run)
    request.realtime.publish(topic(run.id), {"run": run.id, "status": RunStatus.aborted.value})
    return run


@api_view(
    "jobs.run_relaunch", request_method="POST", body=s.RelaunchIn, response=s.RunOut, status=202, permission="jobs.run"
)
def relaunch(request: Any, body: s.RelaunchIn) -> Run:
    """Run the same again on the hosts that failed; sensitive values must be given again."""
    run = _get(request, Run, int(request.matchdict["id"]), "run")
    if not RunStatus(run.status).is_done:
        raise Conflict(f"run {run.id} is {run.status.value}: relaunch it when it has ended")
    failed = list(
        request.db.scalars(
            select(RunHost.host).where(RunHost.run_id == run.id, RunHost.failed.is_(True)).order_by(RunHost.host)
        )
    )
    if not failed:
        raise Conflict(f"run {run.id} has no failed hosts")
    if run.inventory_id is None:
        raise Conflict(f"the inventory of run {run.id} was deleted")
    template = request.registry.job_templates.get(run.template)
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
    return _launch(request, template, run.inventory_id, variables, filters, name=run.name, relaunch_of_id=run.id)


# -- presets and schedules ---------------------------------------------------------------------

presets = Listing(
    key=Preset.id,
    ordering={"id": Preset.id, "name": Preset.name, "template": Preset.template},
    default_ordering="name",
    search=[Preset.name, Preset.description],
    filters={"template": Filter(Preset.template), "inventory_id": Filter(Preset.inventory_id, int)},
)


def _fill_preset(request: Any, preset: Preset, body: s.PresetIn) -> Preset:
    template = request.registry.job_templates.require(body.template)
    no_sensitive_values(template, body.variables)
    if request.db.get(Inventory, body.inventory_id) is None:
        raise Invalid.field("inventory_id", f"no inventory {body.inventory_id}")
    filters = body.filters.model_dump(exclude_none=True)
    check_hosts_exist(request.db, body.inventory_id, filters.get("hosts"))
    preset.name = body.name
    preset.description = body.description
    preset.template = template.name
    preset.inventory_id = body.inventory_id
    preset.variables = template.validate(body.variables)
    preset.filters = filters
    return preset


@api_view("jobs.presets", query=presets, response=Page[s.PresetOut])
def list_presets(request: Any, query: Any) -> dict[str, Any]:
    """Saved launch configurations."""
    return query.page(select(Preset))


@api_view(
    "jobs.presets", request_method="POST", body=s.PresetIn, response=s.PresetOut, status=201, permission="jobs.run"
)
def create_preset(request: Any, body: s.PresetIn) -> Preset:
    """Save a launch configuration (templates with sensitive parameters cannot be saved)."""
    ensure_unique(request.db, Preset.name, body.name)
    preset = _fill_preset(request, Preset(created_by_id=_user_id(request)), body)
    request.db.add(preset)
    request.db.flush()
    return preset


@api_view("jobs.preset", response=s.PresetOut)
def show_preset(request: Any) -> Preset:
    """One preset."""
    return _get(request, Preset, int(request.matchdict["id"]), "preset")


@api_view("jobs.preset", request_method="PUT", body=s.PresetIn, response=s.PresetOut, permission="jobs.run")
def replace_preset(request: Any, body: s.PresetIn) -> Preset:
    """Replace a preset."""
    preset = _get(request, Preset, int(request.matchdict["id"]), "preset")
    ensure_unique(request.db, Preset.name, body.name, exclude=preset.id)
    return _fill_preset(request, preset, body)


@api_view("jobs.preset", request_method="DELETE", status=204, permission="jobs.run")
def delete_preset(request: Any) -> None:
    """Delete a preset and its schedules."""
    request.db.delete(_get(request, Preset, int(request.matchdict["id"]), "preset"))


@api_view(
    "jobs.preset_launch",
    request_method="POST",
    body=s.PresetLaunchIn,
    response=s.RunOut,
    status=202,
    permission="jobs.run",
)
def launch_saved(request: Any, body: s.PresetLaunchIn) -> Run:
    """Launch a preset, now or at ``scheduled_at``."""
    preset = _get(request, Preset, int(request.matchdict["id"]), "preset")
    return launch_preset(request, preset, scheduled_at=body.scheduled_at, created_by_id=_user_id(request))


schedules = Listing(
    key=Schedule.id,
    ordering={"id": Schedule.id, "name": Schedule.name, "next_run_at": Schedule.next_run_at},
    default_ordering="name",
    search=[Schedule.name],
    filters={"preset_id": Filter(Schedule.preset_id, int), "enabled": Filter(Schedule.enabled, bool)},
)


def _fill_schedule(request: Any, schedule: Schedule, body: s.ScheduleIn) -> Schedule:
    if request.db.get(Preset, body.preset_id) is None:
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


@api_view("jobs.schedules", query=schedules, response=Page[s.ScheduleOut])
def list_schedules(request: Any, query: Any) -> dict[str, Any]:
    """Schedules: presets launched on a cron expression or an interval."""
    return query.page(select(Schedule))


@api_view(
    "jobs.schedules",
    request_method="POST",
    body=s.ScheduleIn,
    response=s.ScheduleOut,
    status=201,
    permission="jobs.run",
)
def create_schedule(request: Any, body: s.ScheduleIn) -> Schedule:
    """Schedule a preset."""
    ensure_unique(request.db, Schedule.name, body.name)
    schedule = _fill_schedule(request, Schedule(created_by_id=_user_id(request)), body)
    request.db.add(schedule)
    request.db.flush()
    return schedule


@api_view("jobs.schedule", response=s.ScheduleOut)
def show_schedule(request: Any) -> Schedule:
    """One schedule."""
    return _get(request, Schedule, int(request.matchdict["id"]), "schedule")


@api_view("jobs.schedule", request_method="PUT", body=s.ScheduleIn, response=s.ScheduleOut, permission="jobs.run")
def replace_schedule(request: Any, body: s.ScheduleIn) -> Schedule:
    """Replace a schedule; its next run is worked out again when its timing changed."""
    schedule = _get(request, Schedule, int(request.matchdict["id"]), "schedule")
    ensure_unique(request.db, Schedule.name, body.name, exclude=schedule.id)
    return _fill_schedule(request, schedule, body)


@api_view("jobs.schedule", request_method="DELETE", status=204, permission="jobs.run")
def delete_schedule(request: Any) -> None:
    """Delete a schedule; the runs it launched stay."""
    request.db.delete(_get(request, Schedule, int(request.matchdict["id"]), "schedule"))


# -- runner configuration ------------------------------------------------------------------------


@api_view("jobs.configuration", response=s.ConfigurationOut)
def show_configuration(request: Any) -> RunnerConfiguration:
    """The Nornir runner every run uses."""
    return RunnerConfiguration.current(request.db)


@api_view(
    "jobs.configuration",
    request_method="PUT",
    body=s.ConfigurationIn,
    response=s.ConfigurationOut,
    permission="jobs.configure",
)
def change_configuration(request: Any, body: s.ConfigurationIn) -> RunnerConfiguration:
    """Change the Nornir runner (administrators)."""
    configuration = request.db.merge(RunnerConfiguration.current(request.db))
    configuration.runner = body.runner
    configuration.num_workers = body.num_workers
    return configuration
