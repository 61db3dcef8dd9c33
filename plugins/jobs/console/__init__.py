"""The jobs pages of the console, under ``/console/jobs``.

Templates with their launch forms, runs (a run's hosts arrive live over
WAMP), inventories and hosts, presets and schedules. Every page calls the
same use cases as the JSON API (:mod:`pyramidion_jobs.services`), with the
API's schemas, so the console can never allow what the API refuses.
"""

from __future__ import annotations

import zoneinfo
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError
from pyramid.httpexceptions import HTTPSeeOther

from pyramidion.api import Invalid, validation_details
from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.request import Request

from .. import schemas as s
from .. import services
from ..interfaces import IJobRunner
from ..models import InventoryHost, RunStatus
from ..realtime import run_topic
from .launch import (
    PRESET_FIELDS,
    checked_launch,
    checked_preset,
    colliding_parameters,
    for_the_form,
    form_schema,
    parameter_inputs,
)

TEMPLATES = "pyramidion_jobs:console/templates/"


def includeme(config: Any) -> None:
    """Routes, the menu entry and the static files of the jobs pages (under ``/console/jobs``)."""
    config.add_route("jobs.console.templates", "/")
    config.add_route("jobs.console.template", "/templates/{name}")
    config.add_route("jobs.console.runs", "/runs")
    config.add_route("jobs.console.run", r"/runs/{id:\d+}")
    config.add_route("jobs.console.run_live", r"/runs/{id:\d+}/live")
    config.add_route("jobs.console.run_abort", r"/runs/{id:\d+}/abort")
    config.add_route("jobs.console.run_relaunch", r"/runs/{id:\d+}/relaunch")
    config.add_route("jobs.console.inventories", "/inventories")
    config.add_route("jobs.console.inventory", r"/inventories/{id:\d+}")
    config.add_route("jobs.console.host", r"/inventories/{id:\d+}/hosts/{name}")
    config.add_route("jobs.console.presets", "/presets")
    config.add_route("jobs.console.preset_launch", r"/presets/{id:\d+}/launch")
    config.add_route("jobs.console.preset_delete", r"/presets/{id:\d+}/delete")
    config.add_route("jobs.console.schedules", "/schedules")
    config.add_route("jobs.console.schedule_enabled", r"/schedules/{id:\d+}/enabled")
    config.add_route("jobs.console.schedule_delete", r"/schedules/{id:\d+}/delete")
    config.add_route("jobs.console.configuration", "/configuration")
    # Reading jobs needs a login, as in the API; the pages' buttons need jobs.run.
    config.add_console_menu("Jobs", "jobs.console.templates", order=20)
    config.add_console_static("pyramidion_jobs:console/static")
    config.scan()


def _id(request: Request) -> str:
    return request.matchdict["id"]


def _may_run(request: Request) -> bool:
    return services.may(request.db, request.identity, services.RUN)


def _query(request: Request, model: type[BaseModel]) -> Any:
    """The page's query string checked by ``model``, the API's own query schema."""
    try:
        return model.model_validate(request.GET.mixed())
    except ValidationError as exc:
        details = validation_details(exc, "query")
        raise Invalid("invalid query: " + ", ".join(d["field"] for d in details), details) from None


def _without_empty_fields(request: Request) -> HTTPSeeOther | None:
    """A search form sends its empty fields too: the same list without them, which the list would refuse."""
    if all(value != "" for value in request.GET.values()):
        return None
    kept = [(name, value) for name, value in request.GET.items() if value != ""]
    return HTTPSeeOther(request.path_url + (f"?{urlencode(kept)}" if kept else ""))


def _runner(request: Request) -> IJobRunner:
    return request.find_service(IJobRunner)


# -- templates ---------------------------------------------------------------------------


@console_view("jobs.console.templates", template=TEMPLATES + "templates.jinja2")
def templates_page(request: Request) -> Any:
    """Every job template, searchable, each with a link to its launch form."""
    if redirect := _without_empty_fields(request):
        return redirect
    query = _query(request, s.TemplateQuery)
    page = services.list_templates(request.registry.job_templates, query, request.path_url)
    return {"page": page, "search": query.search}


@console_view("jobs.console.template", template=TEMPLATES + "launch.jinja2", request_method=("GET", "POST"))
def template_page(request: Request) -> Any:
    """A template and its launch form: launch it, or save what the form holds as a preset."""
    templates = request.registry.job_templates
    template = services.get_template(templates, request.matchdict["name"])
    inputs = parameter_inputs(template)
    form = Form(request, form_schema(template), initial={p.name: p.default for p in inputs if p.default is not None})
    if form.submitted:
        services.require(request.db, request.identity, services.RUN)  # as the API's route does, first
        saving = request.POST.get("action") == "save"
        try:
            if saving:
                preset = checked_preset(template, form.values())
                saved = services.create_preset(request.db, request.identity, templates, preset)
            else:
                run = services.launch(
                    request.db, request.identity, templates, _runner(request), checked_launch(template, form.values())
                )
        except FORM_ERRORS as exc:
            form.fail(for_the_form(exc, PRESET_FIELDS if saving else None))
        else:
            if saving:
                flash(request, f"Preset {saved.name} saved")
                return HTTPSeeOther(request.route_url("jobs.console.presets"))
            flash(request, f"Run {run.id} launched")
            return HTTPSeeOther(request.route_url("jobs.console.run", id=run.id))
    return {
        "template": template,
        "inputs": inputs,
        "form": form,
        "inventories": services.inventory_choices(request.db),
        "collisions": colliding_parameters(template),
        "may_run": _may_run(request),
    }


# -- runs ------------------------------------------------------------------------------


@console_view("jobs.console.runs", template=TEMPLATES + "runs.jinja2")
def runs_page(request: Request) -> Any:
    """Runs, newest first, filtered by status and searched by name."""
    if redirect := _without_empty_fields(request):
        return redirect
    page = services.list_runs(services.run_listing.parse(request))
    return {"page": page, "statuses": [status.value for status in RunStatus], "chosen": request.GET}


def _run_view(request: Request, relaunch_form: Form | None = None) -> dict[str, Any]:
    run = services.get_run(request.db, _id(request))
    hosts = services.list_run_hosts(request.db, services.run_host_listing.parse(request), run.id)
    template = request.registry.job_templates.get(run.template)
    sensitive = [p for p in parameter_inputs(template) if p.name in template.sensitive] if template else []
    return {
        "run": run,
        "hosts": hosts,
        "may_run": _may_run(request),
        "sensitive": sensitive,
        "relaunch_form": relaunch_form or Form(request),
        "topic": run_topic(run.id),
    }


@console_view("jobs.console.run", template=TEMPLATES + "run.jinja2")
def run_page(request: Request) -> dict[str, Any]:
    """A run: its status and each host's result, updated live as the worker reports them."""
    return _run_view(request)


@console_view("jobs.console.run_live", template=TEMPLATES + "run_live.jinja2")
def run_live(request: Request) -> dict[str, Any]:
    """The live part of a run's page (status, hosts, buttons), fetched again when an event arrives."""
    return _run_view(request)


@console_view("jobs.console.run_abort", request_method="POST")
def abort_run(request: Request) -> HTTPSeeOther:
    """Abort the run (a refusal, such as a run that has ended, shows as an error page)."""
    run = services.abort(request.db, request.identity, request.realtime, _id(request))
    flash(request, f"Run {run.id} aborted")
    return HTTPSeeOther(request.route_url("jobs.console.run", id=run.id))


@console_view("jobs.console.run_relaunch", template=TEMPLATES + "run.jinja2", request_method="POST")
def relaunch_run(request: Request) -> Any:
    """Relaunch the run on its failed hosts; sensitive values are typed again."""
    services.require(request.db, request.identity, services.RUN)
    form = Form(request)
    variables = {name: value for name, value in form.values().items() if name != "action"}
    try:
        run = services.relaunch_failed(
            request.db,
            request.identity,
            request.registry.job_templates,
            _runner(request),
            _id(request),
            s.RelaunchIn.model_validate({"variables": variables}),
        )
    except (ValidationError, Invalid) as exc:  # a refusal of the run itself (409) is an error page
        form.fail(for_the_form(exc))
        return _run_view(request, relaunch_form=form)
    flash(request, f"Run {run.id} relaunched on the failed hosts")
    return HTTPSeeOther(request.route_url("jobs.console.run", id=run.id))


# -- inventories --------------------------------------------------------------------------


@console_view("jobs.console.inventories", template=TEMPLATES + "inventories.jinja2", request_method=("GET", "POST"))
def inventories_page(request: Request) -> Any:
    """Inventories, searchable, and a form importing one from SimpleInventory YAML."""
    form = Form(request, s.InventoryImport)
    if form.submitted:
        services.require(request.db, request.identity, services.INVENTORY)
        try:
            imported = services.import_inventory(
                request.db, request.identity, request.registry.jobs_cipher, form.validate()
            )
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            inventory = imported["inventory"]
            flash(
                request, f"Inventory {inventory.name} imported: {imported['hosts']} hosts, {imported['groups']} groups"
            )
            return HTTPSeeOther(request.route_url("jobs.console.inventory", id=inventory.id))
    elif redirect := _without_empty_fields(request):
        return redirect
    return {
        "page": services.list_inventories(services.inventory_listing.parse(request)),
        "chosen": request.GET,
        "form": form,
        "may_import": services.may(request.db, request.identity, services.INVENTORY),
    }


@console_view("jobs.console.inventory", template=TEMPLATES + "inventory.jinja2")
def inventory_page(request: Request) -> Any:
    """An inventory's hosts: search, filters by name, hostname, platform and group."""
    if redirect := _without_empty_fields(request):
        return redirect
    inventory = services.get_inventory(request.db, _id(request))
    hosts = services.list_members(request.db, services.host_listing.parse(request), InventoryHost, inventory.id)
    return {"inventory": inventory, "page": hosts, "chosen": request.GET}


@console_view("jobs.console.host", template=TEMPLATES + "host.jinja2")
def host_page(request: Request) -> dict[str, Any]:
    """A host with the data it inherits from its groups and the defaults."""
    inventory = services.get_inventory(request.db, _id(request))
    host = services.host_detail(request.db, request.registry.jobs_cipher, inventory.id, request.matchdict["name"])
    return {"inventory": inventory, "host": host}


# -- presets and schedules ------------------------------------------------------------------


@console_view("jobs.console.presets", template=TEMPLATES + "presets.jinja2")
def presets_page(request: Request) -> dict[str, Any]:
    """Saved launch configurations, each launched with one button."""
    page = services.list_presets(services.preset_listing.parse(request))
    return {"page": page, "inventories": dict(services.inventory_choices(request.db)), "may_run": _may_run(request)}


@console_view("jobs.console.preset_launch", request_method="POST")
def launch_preset(request: Request) -> HTTPSeeOther:
    """Launch a preset as saved."""
    run = services.launch_preset(
        request.db, request.identity, request.registry.job_templates, _runner(request), _id(request)
    )
    flash(request, f"Run {run.id} launched from preset {run.name}")
    return HTTPSeeOther(request.route_url("jobs.console.run", id=run.id))


@console_view("jobs.console.preset_delete", request_method="POST")
def delete_preset(request: Request) -> HTTPSeeOther:
    """Delete a preset and its schedules."""
    preset = services.get_preset(request.db, _id(request))
    name = preset.name
    services.delete_preset(request.db, request.identity, preset.id)
    flash(request, f"Preset {name} deleted")
    return HTTPSeeOther(request.route_url("jobs.console.presets"))


def _local_next_runs(schedules: list[Any]) -> dict[int, Any]:
    """Each schedule's next run in its own time zone, as its owner reads it."""
    return {
        schedule.id: schedule.next_run_at.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
        for schedule in schedules
        if schedule.next_run_at is not None
    }


@console_view("jobs.console.schedules", template=TEMPLATES + "schedules.jinja2", request_method=("GET", "POST"))
def schedules_page(request: Request) -> Any:
    """Schedules with their next run in their time zone, and a form for a new one."""
    form = Form(request, s.ScheduleIn, initial={"timezone": "UTC", "enabled": True})
    if form.submitted:
        services.require(request.db, request.identity, services.RUN)
        try:
            schedule = services.create_schedule(request.db, request.identity, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Schedule {schedule.name} created")
            return HTTPSeeOther(request.route_url("jobs.console.schedules"))
    page = services.list_schedules(services.schedule_listing.parse(request))
    return {
        "page": page,
        "local_next": _local_next_runs(page["results"]),
        "presets": services.preset_choices(request.db),
        "form": form,
        "may_run": _may_run(request),
    }


@console_view("jobs.console.schedule_enabled", request_method="POST")
def toggle_schedule(request: Request) -> HTTPSeeOther:
    """Pause a schedule, or let it run again."""
    schedule = services.get_schedule(request.db, _id(request))
    body = s.ScheduleIn.model_validate(
        {
            "name": schedule.name,
            "preset_id": schedule.preset_id,
            "cron": schedule.cron,
            "interval_seconds": schedule.interval_seconds,
            "timezone": schedule.timezone,
            "enabled": not schedule.enabled,
        }
    )
    schedule = services.replace_schedule(request.db, request.identity, schedule.id, body)
    flash(request, f"Schedule {schedule.name} {'enabled' if schedule.enabled else 'paused'}")
    return HTTPSeeOther(request.route_url("jobs.console.schedules"))


@console_view("jobs.console.schedule_delete", request_method="POST")
def delete_schedule(request: Request) -> HTTPSeeOther:
    """Delete a schedule; the runs it launched stay."""
    schedule = services.get_schedule(request.db, _id(request))
    name = schedule.name
    services.delete_schedule(request.db, request.identity, schedule.id)
    flash(request, f"Schedule {name} deleted")
    return HTTPSeeOther(request.route_url("jobs.console.schedules"))


# -- runner configuration ------------------------------------------------------------------


@console_view("jobs.console.configuration", template=TEMPLATES + "configuration.jinja2", request_method=("GET", "POST"))
def configuration_page(request: Request) -> Any:
    """The Nornir runner every run uses: read by every member, changed by holders of jobs.configure."""
    current = services.runner_configuration(request.db)
    form = Form(request, s.ConfigurationIn, initial={"runner": current.runner, "num_workers": current.num_workers})
    if form.submitted:
        services.require(request.db, request.identity, services.CONFIGURE)
        try:
            changed = services.change_configuration(request.db, request.identity, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Runs now use the {changed.runner} runner with {changed.num_workers} workers")
            return HTTPSeeOther(request.route_url("jobs.console.configuration"))
    return {
        "configuration": current,
        "form": form,
        "may_configure": services.may(request.db, request.identity, services.CONFIGURE),
    }
