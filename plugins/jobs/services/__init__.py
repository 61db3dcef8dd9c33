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

from .access import CONFIGURE, DEFAULT_GROUPS, INVENTORY, PERMISSIONS, RUN, may, require
from .inventories import (
    Member,
    change_defaults,
    change_inventory,
    change_member,
    check_hosts_exist,
    check_inventory,
    create_inventory,
    create_member,
    delete_inventory,
    delete_member,
    get_defaults,
    get_inventory,
    get_member,
    group_listing,
    host_detail,
    host_listing,
    import_inventory,
    inventory_choices,
    inventory_listing,
    list_inventories,
    list_members,
)
from .runs import (
    abort,
    change_configuration,
    create_preset,
    delete_preset,
    get_preset,
    get_run,
    get_template,
    launch,
    launch_preset,
    list_presets,
    list_run_hosts,
    list_runs,
    list_templates,
    preset_choices,
    preset_listing,
    relaunch_failed,
    replace_preset,
    run_host_listing,
    run_listing,
    runner_configuration,
    start_preset,
    start_run,
)
from .schedules import (
    create_schedule,
    delete_schedule,
    get_schedule,
    launch_due_schedules,
    list_schedules,
    next_run_at,
    replace_schedule,
    schedule_listing,
)

__all__ = [
    "CONFIGURE",
    "DEFAULT_GROUPS",
    "INVENTORY",
    "PERMISSIONS",
    "RUN",
    "Member",
    "abort",
    "change_configuration",
    "change_defaults",
    "change_inventory",
    "change_member",
    "check_hosts_exist",
    "check_inventory",
    "create_inventory",
    "create_member",
    "create_preset",
    "create_schedule",
    "delete_inventory",
    "delete_member",
    "delete_preset",
    "delete_schedule",
    "get_defaults",
    "get_inventory",
    "get_member",
    "get_preset",
    "get_run",
    "get_schedule",
    "get_template",
    "group_listing",
    "host_detail",
    "host_listing",
    "import_inventory",
    "inventory_choices",
    "inventory_listing",
    "launch",
    "launch_due_schedules",
    "launch_preset",
    "list_inventories",
    "list_members",
    "list_presets",
    "list_run_hosts",
    "list_runs",
    "list_schedules",
    "list_templates",
    "may",
    "next_run_at",
    "preset_choices",
    "preset_listing",
    "relaunch_failed",
    "replace_preset",
    "replace_schedule",
    "require",
    "run_host_listing",
    "run_listing",
    "runner_configuration",
    "schedule_listing",
    "start_preset",
    "start_run",
]
