"""The jobs API under ``/api/jobs``: templates, inventories, runs, presets, schedules, configuration.

Each view validates its input, calls the use case in :mod:`.services` and
answers; the rules and permission checks live there. The routes' own
permissions make anonymous callers a 401 and say in the OpenAPI document
who may call what.
"""

from __future__ import annotations

from typing import Any

from pyramidion.api import Page, api_view
from pyramidion.request import Request

from . import schemas as s
from . import services
from .catalogue import JobTemplate
from .interfaces import IJobRunner
from .models import (
    Inventory,
    InventoryDefaults,
    InventoryGroup,
    InventoryHost,
    Preset,
    Run,
    RunnerConfiguration,
    Schedule,
)
from .services import CONFIGURE, INVENTORY, RUN

NAME_TAKEN = {409: "The name is taken"}
RUN_ENDED = {409: "The run has ended already"}
NOT_RELAUNCHABLE = {
    409: "The run cannot be relaunched: not ended, no failed host, or its inventory or template is gone"
}


def includeme(config: Any) -> None:
    """The routes of the API, under the plugin's prefix ``/api/jobs``."""
    config.add_route("jobs.templates", "/templates")
    config.add_route("jobs.template", "/templates/{name}")
    config.add_route("jobs.inventories", "/inventories")
    config.add_route("jobs.inventory_import", "/inventories/import")
    config.add_route("jobs.inventory", r"/inventories/{id:\d+}")
    config.add_route("jobs.defaults", r"/inventories/{id:\d+}/defaults")
    config.add_route("jobs.hosts", r"/inventories/{id:\d+}/hosts")
    config.add_route("jobs.host", r"/inventories/{id:\d+}/hosts/{name}")
    config.add_route("jobs.groups", r"/inventories/{id:\d+}/groups")
    config.add_route("jobs.group", r"/inventories/{id:\d+}/groups/{name}")
    config.add_route("jobs.runs", "/runs")
    config.add_route("jobs.run", r"/runs/{id:\d+}")
    config.add_route("jobs.run_hosts", r"/runs/{id:\d+}/hosts")
    config.add_route("jobs.run_abort", r"/runs/{id:\d+}/abort")
    config.add_route("jobs.run_relaunch", r"/runs/{id:\d+}/relaunch")
    config.add_route("jobs.presets", "/presets")
    config.add_route("jobs.preset", r"/presets/{id:\d+}")
    config.add_route("jobs.preset_launch", r"/presets/{id:\d+}/launch")
    config.add_route("jobs.schedules", "/schedules")
    config.add_route("jobs.schedule", r"/schedules/{id:\d+}")
    config.add_route("jobs.configuration", "/configuration")
    config.scan(".views")


def _id(request: Request) -> str:
    return request.matchdict["id"]


def _name(request: Request) -> str:
    return request.matchdict["name"]


# -- templates -------------------------------------------------------------------------


def template_out(template: JobTemplate) -> dict[str, Any]:
    """A template as the API shows it."""
    return {
        "name": template.name,
        "description": template.description,
        "source": template.source,
        "parameters": template.schema(),
        "sensitive": sorted(template.sensitive),
    }


@api_view("jobs.templates", query=s.TemplateQuery, response=Page[s.TemplateOut])
def list_templates(request: Request, query: s.TemplateQuery) -> dict[str, Any]:
    """Job templates with the JSON Schema of their parameters, by name."""
    page = services.list_templates(request.registry.job_templates, query, request.path_url)
    return {**page, "results": [template_out(t) for t in page["results"]]}


@api_view("jobs.template", response=s.TemplateOut)
def show_template(request: Request) -> dict[str, Any]:
    """One job template."""
    return template_out(services.get_template(request.registry.job_templates, _name(request)))


# -- inventories ---------------------------------------------------------------------------


@api_view("jobs.inventories", query=services.inventory_listing, response=Page[s.InventoryOut])
def list_inventories(request: Request, query: Any) -> dict[str, Any]:
    """Inventories."""
    return services.list_inventories(query)


@api_view(
    "jobs.inventories",
    request_method="POST",
    body=s.InventoryIn,
    response=s.InventoryOut,
    status=201,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def create_inventory(request: Request, body: s.InventoryIn) -> Inventory:
    """Create an empty inventory."""
    return services.create_inventory(request.db, request.identity, body)


@api_view(
    "jobs.inventory_import",
    request_method="POST",
    body=s.InventoryImport,
    response=s.ImportOut,
    status=201,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def import_inventory(request: Request, body: s.InventoryImport) -> dict[str, Any]:
    """Create an inventory from Nornir SimpleInventory YAML (hosts, groups, defaults)."""
    return services.import_inventory(request.db, request.identity, request.registry.jobs_cipher, body)


@api_view("jobs.inventory", response=s.InventoryOut)
def show_inventory(request: Request) -> Inventory:
    """One inventory."""
    return services.get_inventory(request.db, _id(request))


@api_view(
    "jobs.inventory",
    request_method="PATCH",
    body=s.InventoryPatch,
    response=s.InventoryOut,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def change_inventory(request: Request, body: s.InventoryPatch) -> Inventory:
    """Rename or describe an inventory."""
    return services.change_inventory(request.db, request.identity, _id(request), body)


@api_view("jobs.inventory", request_method="DELETE", status=204, permission=INVENTORY)
def delete_inventory(request: Request) -> None:
    """Delete an inventory with its hosts, groups and presets; past runs stay, without it."""
    services.delete_inventory(request.db, request.identity, _id(request))


@api_view("jobs.defaults", response=s.ElementOut)
def show_defaults(request: Request) -> InventoryDefaults:
    """The inventory's defaults."""
    return services.get_defaults(request.db, _id(request))


@api_view("jobs.defaults", request_method="PUT", body=s.ElementPatch, response=s.ElementOut, permission=INVENTORY)
def change_defaults(request: Request, body: s.ElementPatch) -> InventoryDefaults:
    """Change the defaults; fields left out stay as they are."""
    return services.change_defaults(request.db, request.identity, request.registry.jobs_cipher, _id(request), body)


@api_view("jobs.hosts", query=services.host_listing, response=Page[s.MemberOut])
def list_hosts(request: Request, query: Any) -> dict[str, Any]:
    """Hosts of an inventory (their own fields; the detail shows what they inherit)."""
    return services.list_members(request.db, query, InventoryHost, _id(request))


@api_view("jobs.groups", query=services.group_listing, response=Page[s.MemberOut])
def list_groups(request: Request, query: Any) -> dict[str, Any]:
    """Groups of an inventory."""
    return services.list_members(request.db, query, InventoryGroup, _id(request))


@api_view(
    "jobs.hosts",
    request_method="POST",
    body=s.MemberIn,
    response=s.MemberOut,
    status=201,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def create_host(request: Request, body: s.MemberIn) -> InventoryHost:
    """Add a host."""
    cipher = request.registry.jobs_cipher
    return services.create_member(request.db, request.identity, cipher, InventoryHost, _id(request), body)


@api_view(
    "jobs.groups",
    request_method="POST",
    body=s.MemberIn,
    response=s.MemberOut,
    status=201,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def create_group(request: Request, body: s.MemberIn) -> InventoryGroup:
    """Add a group."""
    cipher = request.registry.jobs_cipher
    return services.create_member(request.db, request.identity, cipher, InventoryGroup, _id(request), body)


@api_view("jobs.host", response=s.HostDetail)
def show_host(request: Request) -> dict[str, Any]:
    """A host with the data it inherits from its groups and the defaults."""
    return services.host_detail(request.db, request.registry.jobs_cipher, _id(request), _name(request))


@api_view("jobs.group", response=s.MemberOut)
def show_group(request: Request) -> InventoryGroup:
    """A group."""
    return services.get_member(request.db, InventoryGroup, _id(request), _name(request))


@api_view(
    "jobs.host",
    request_method="PATCH",
    body=s.MemberPatch,
    response=s.MemberOut,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def change_host(request: Request, body: s.MemberPatch) -> InventoryHost:
    """Change a host; fields left out stay, ``"password": null`` removes the password."""
    cipher = request.registry.jobs_cipher
    return services.change_member(
        request.db, request.identity, cipher, InventoryHost, _id(request), _name(request), body
    )


@api_view(
    "jobs.group",
    request_method="PATCH",
    body=s.MemberPatch,
    response=s.MemberOut,
    permission=INVENTORY,
    responses=NAME_TAKEN,
)
def change_group(request: Request, body: s.MemberPatch) -> InventoryGroup:
    """Change a group."""
    cipher = request.registry.jobs_cipher
    return services.change_member(
        request.db, request.identity, cipher, InventoryGroup, _id(request), _name(request), body
    )


@api_view("jobs.host", request_method="DELETE", status=204, permission=INVENTORY)
def delete_host(request: Request) -> None:
    """Delete a host."""
    services.delete_member(request.db, request.identity, InventoryHost, _id(request), _name(request))


@api_view("jobs.group", request_method="DELETE", status=204, permission=INVENTORY)
def delete_group(request: Request) -> None:
    """Delete a group; its members no longer inherit from it."""
    services.delete_member(request.db, request.identity, InventoryGroup, _id(request), _name(request))


# -- runs ------------------------------------------------------------------------------------


@api_view("jobs.runs", query=services.run_listing, response=Page[s.RunOut])
def list_runs(request: Request, query: Any) -> dict[str, Any]:
    """Runs, newest first."""
    return services.list_runs(query)


@api_view("jobs.runs", request_method="POST", body=s.LaunchIn, response=s.RunOut, status=202, permission=RUN)
def launch(request: Request, body: s.LaunchIn) -> Run:
    """Launch a template on an inventory, now or at ``scheduled_at``; the run goes on in the background."""
    runner = request.find_service(IJobRunner)
    return services.launch(request.db, request.identity, request.registry.job_templates, runner, body)


@api_view("jobs.run", response=s.RunOut)
def show_run(request: Request) -> Run:
    """One run with its status and host counts; live progress on the WAMP topic ``pyramidion.jobs.run.<id>``."""
    return services.get_run(request.db, _id(request))


@api_view("jobs.run_hosts", query=services.run_host_listing, response=Page[s.RunHostOut])
def list_run_hosts(request: Request, query: Any) -> dict[str, Any]:
    """The results of a run per host, in Nornir's shape (subtasks nested)."""
    return services.list_run_hosts(request.db, query, _id(request))


@api_view("jobs.run_abort", request_method="POST", response=s.RunOut, permission=RUN, responses=RUN_ENDED)
def abort(request: Request) -> Run:
    """Abort a waiting or running run; a running one stops before its next host or subtask."""
    return services.abort(request.db, request.identity, request.realtime, _id(request))


@api_view(
    "jobs.run_relaunch",
    request_method="POST",
    body=s.RelaunchIn,
    response=s.RunOut,
    status=202,
    permission=RUN,
    responses=NOT_RELAUNCHABLE,
)
def relaunch(request: Request, body: s.RelaunchIn) -> Run:
    """Run the same again on the hosts that failed; sensitive values must be given again."""
    runner = request.find_service(IJobRunner)
    templates = request.registry.job_templates
    return services.relaunch_failed(request.db, request.identity, templates, runner, _id(request), body)


# -- presets and schedules ---------------------------------------------------------------------


@api_view("jobs.presets", query=services.preset_listing, response=Page[s.PresetOut])
def list_presets(request: Request, query: Any) -> dict[str, Any]:
    """Saved launch configurations."""
    return services.list_presets(query)


@api_view(
    "jobs.presets",
    request_method="POST",
    body=s.PresetIn,
    response=s.PresetOut,
    status=201,
    permission=RUN,
    responses=NAME_TAKEN,
)
def create_preset(request: Request, body: s.PresetIn) -> Preset:
    """Save a launch configuration (templates with sensitive parameters cannot be saved)."""
    return services.create_preset(request.db, request.identity, request.registry.job_templates, body)


@api_view("jobs.preset", response=s.PresetOut)
def show_preset(request: Request) -> Preset:
    """One preset."""
    return services.get_preset(request.db, _id(request))


@api_view(
    "jobs.preset",
    request_method="PUT",
    body=s.PresetIn,
    response=s.PresetOut,
    permission=RUN,
    responses=NAME_TAKEN,
)
def replace_preset(request: Request, body: s.PresetIn) -> Preset:
    """Replace a preset."""
    templates = request.registry.job_templates
    return services.replace_preset(request.db, request.identity, templates, _id(request), body)


@api_view("jobs.preset", request_method="DELETE", status=204, permission=RUN)
def delete_preset(request: Request) -> None:
    """Delete a preset and its schedules."""
    services.delete_preset(request.db, request.identity, _id(request))


@api_view(
    "jobs.preset_launch",
    request_method="POST",
    body=s.PresetLaunchIn,
    response=s.RunOut,
    status=202,
    permission=RUN,
)
def launch_preset(request: Request, body: s.PresetLaunchIn) -> Run:
    """Launch a preset, now or at ``scheduled_at``."""
    runner = request.find_service(IJobRunner)
    templates = request.registry.job_templates
    return services.launch_preset(request.db, request.identity, templates, runner, _id(request), body.scheduled_at)


@api_view("jobs.schedules", query=services.schedule_listing, response=Page[s.ScheduleOut])
def list_schedules(request: Request, query: Any) -> dict[str, Any]:
    """Schedules: presets launched on a cron expression or an interval."""
    return services.list_schedules(query)


@api_view(
    "jobs.schedules",
    request_method="POST",
    body=s.ScheduleIn,
    response=s.ScheduleOut,
    status=201,
    permission=RUN,
    responses=NAME_TAKEN,
)
def create_schedule(request: Request, body: s.ScheduleIn) -> Schedule:
    """Schedule a preset."""
    return services.create_schedule(request.db, request.identity, body)


@api_view("jobs.schedule", response=s.ScheduleOut)
def show_schedule(request: Request) -> Schedule:
    """One schedule."""
    return services.get_schedule(request.db, _id(request))


@api_view(
    "jobs.schedule",
    request_method="PUT",
    body=s.ScheduleIn,
    response=s.ScheduleOut,
    permission=RUN,
    responses=NAME_TAKEN,
)
def replace_schedule(request: Request, body: s.ScheduleIn) -> Schedule:
    """Replace a schedule; its next run is worked out again when its timing changed."""
    return services.replace_schedule(request.db, request.identity, _id(request), body)


@api_view("jobs.schedule", request_method="DELETE", status=204, permission=RUN)
def delete_schedule(request: Request) -> None:
    """Delete a schedule; the runs it launched stay."""
    services.delete_schedule(request.db, request.identity, _id(request))


# -- runner configuration ------------------------------------------------------------------------


@api_view("jobs.configuration", response=s.ConfigurationOut)
def show_configuration(request: Request) -> RunnerConfiguration:
    """The Nornir runner every run uses."""
    return services.runner_configuration(request.db)


@api_view(
    "jobs.configuration",
    request_method="PUT",
    body=s.ConfigurationIn,
    response=s.ConfigurationOut,
    permission=CONFIGURE,
)
def change_configuration(request: Request, body: s.ConfigurationIn) -> RunnerConfiguration:
    """Change the Nornir runner (administrators)."""
    return services.change_configuration(request.db, request.identity, body)
