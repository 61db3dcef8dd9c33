"""Request and response bodies of the jobs API.

Credentials (``password``, ``connection_options``) are write-only: responses
say only whether they are set.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from pyramidion.api import In, Out, Patch, Timestamp, TimeZoneName

from .models import DEFAULT_NUM_WORKERS, HostStatus, RunStatus

Name = Field(min_length=1, max_length=150)
ElementName = Field(min_length=1, max_length=255, pattern=r"^[^/]+$")


# -- templates -------------------------------------------------------------------


class TemplateQuery(In):
    """The query of the template list: a page of the catalogue, by name."""

    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=2**31 - 1)
    search: str = Field("", max_length=150, description="name or description contains (any case)")


class TemplateOut(Out):
    name: str
    description: str
    source: str = Field(description="the package or plugin that provides it")
    parameters: dict[str, Any] = Field(description="JSON Schema of the launch variables")
    sensitive: list[str] = Field(description="parameters whose values are never stored")


# -- inventories ---------------------------------------------------------------------


class InventoryIn(In):
    name: str = Name
    description: str = Field("", max_length=1000)


class InventoryPatch(Patch):
    name: str = Name
    description: str = Field(max_length=1000)


class InventoryOut(Out):
    id: int
    name: str
    description: str
    created_at: dt.datetime
    created_by_id: int | None


class InventoryImport(InventoryIn):
    """A new inventory from Nornir SimpleInventory YAML documents (the files' contents)."""

    hosts: str = Field(description="hosts.yaml")
    groups: str | None = Field(None, description="groups.yaml")
    defaults: str | None = Field(None, description="defaults.yaml")


class ImportOut(Out):
    inventory: InventoryOut
    hosts: int
    groups: int


class ConnectionOptionsIn(In):
    hostname: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    platform: str | None = None
    extras: dict[str, Any] | None = None


class ElementIn(In):
    """The fields of defaults, a group or a host, each optional."""

    hostname: str | None = Field(None, max_length=255)
    port: int | None = Field(None, ge=1, le=65535)
    username: str | None = Field(None, max_length=255)
    password: str | None = Field(None, description="write-only; stored encrypted")
    platform: str | None = Field(None, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)
    connection_options: dict[str, ConnectionOptionsIn] | None = Field(None, description="write-only; stored encrypted")


class ElementPatch(Patch, ElementIn):
    """A change of defaults, a group or a host: fields left out stay; ``null`` clears all but ``data``."""


class MemberIn(ElementIn):
    """A host or a group: named, member of groups (in order of precedence)."""

    name: str = ElementName
    groups: list[str] = []


class MemberPatch(ElementPatch):
    name: str = ElementName
    groups: list[str]


def element_values(body: ElementIn) -> dict[str, Any]:
    """The element fields the client sent (not ``name``, ``groups``), connection options as plain dicts."""
    values = body.model_dump(include=body.model_fields_set - {"name", "groups"})
    if values.get("connection_options") is not None:
        values["connection_options"] = {
            name: {k: v for k, v in options.items() if v is not None}
            for name, options in values["connection_options"].items()
        }
    return values


class ElementOut(Out):
    hostname: str | None
    port: int | None
    username: str | None
    platform: str | None
    data: dict[str, Any]
    password_set: bool
    connection_options_set: bool


class MemberOut(ElementOut):
    id: int
    name: str
    groups: list[str]


class HostDetail(Out):
    """A host with what it inherits from its groups and the defaults, as Nornir resolves it."""

    id: int
    name: str
    hostname: str | None
    port: int | None
    username: str | None
    platform: str | None
    groups: list[str]
    extended_groups: list[str] = Field(description="every group it inherits from, in order of precedence")
    data: dict[str, Any] = Field(description="own data merged with its groups' and the defaults'")
    password_set: bool
    connection_options_set: bool


# -- runs ------------------------------------------------------------------------------

_ATTRIBUTE_FILTER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(__[a-z_]+)?$")


class RunFilters(In):
    """Which hosts of the inventory run: by name, and by attributes (Nornir's ``F``)."""

    hosts: list[str] | None = Field(None, description="host names; all hosts when absent")
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="Nornir F() lookups: {'platform': 'ios', 'site': 'zurich', 'groups__contains': 'core'}",
    )

    @field_validator("attributes")
    @classmethod
    def known_shape(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [key for key in value if not _ATTRIBUTE_FILTER.match(key)]
        if bad:
            raise ValueError(f"not an attribute lookup: {', '.join(bad)}")
        return value


class LaunchIn(In):
    template: str = Name
    inventory_id: int
    name: str | None = Field(None, max_length=255, description="defaults to the template's name")
    variables: dict[str, Any] = {}
    filters: RunFilters = Field(default_factory=RunFilters)
    scheduled_at: Timestamp | None = Field(None, description="run at this time instead of now")


class RelaunchIn(In):
    variables: dict[str, Any] = Field(
        {}, description="values of the template's sensitive parameters, which were not stored"
    )


class RunOut(Out):
    id: int
    name: str
    template: str
    inventory_id: int | None
    status: RunStatus
    variables: dict[str, Any]
    filters: dict[str, Any]
    error: str | None
    created_by_id: int | None
    created_at: dt.datetime
    scheduled_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    hosts_total: int
    hosts_failed: int
    relaunch_of_id: int | None
    preset_id: int | None
    schedule_id: int | None


class RunHostOut(Out):
    host: str
    status: HostStatus
    failed: bool
    changed: bool
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: list[dict[str, Any]] = Field(
        description="Nornir's results: name, result, changed, diff, failed, exception, subtasks (nested)"
    )


# -- presets and schedules ------------------------------------------------------------------


class PresetIn(In):
    name: str = Name
    description: str = Field("", max_length=1000)
    template: str = Name
    inventory_id: int
    variables: dict[str, Any] = {}
    filters: RunFilters = Field(default_factory=RunFilters)


class PresetOut(Out):
    id: int
    name: str
    description: str
    template: str
    inventory_id: int
    variables: dict[str, Any]
    filters: dict[str, Any]
    created_by_id: int | None
    created_at: dt.datetime


class PresetLaunchIn(In):
    scheduled_at: Timestamp | None = None


class ScheduleIn(In):
    """Exactly one of ``cron`` and ``interval_seconds``."""

    name: str = Name
    preset_id: int
    cron: str | None = Field(None, max_length=100, examples=["0 6 * * 1-5"])
    interval_seconds: int | None = Field(
        None, ge=60, description="at least a minute: the scheduler looks once a minute"
    )
    timezone: TimeZoneName = Field("UTC", description="IANA time zone the cron expression is read in")
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError("not a cron expression (minute hour day month weekday)")
        return value

    @model_validator(mode="after")
    def one_kind(self) -> ScheduleIn:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give either cron or interval_seconds")
        return self


class ScheduleOut(Out):
    id: int
    name: str
    preset_id: int
    cron: str | None
    interval_seconds: int | None
    timezone: str
    enabled: bool
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None


# -- runner configuration ------------------------------------------------------------------


class ConfigurationIn(In):
    runner: Literal["threaded", "serial"] = "threaded"
    num_workers: int = Field(DEFAULT_NUM_WORKERS, ge=1, le=1000, description="threads of the threaded runner")


class ConfigurationOut(Out):
    runner: str
    num_workers: int
