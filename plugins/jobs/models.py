"""The jobs plugin's tables: inventories, runs and their results, presets, schedules, runner configuration.

An inventory is what Nornir's SimpleInventory keeps in three YAML files, in
rows: defaults, groups and hosts share the connection fields of
:class:`ElementFields`. Credentials (passwords, connection options) are kept
encrypted (see :mod:`pyramidion_jobs.credentials`) and never leave through the API.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pyramidion.db import Base, UTCDateTime, utcnow


class RunStatus(str, enum.Enum):
    created = "created"  # queued to run now
    scheduled = "scheduled"  # queued to run at scheduled_at
    running = "running"
    finished = "finished"
    failed = "failed"
    aborted = "aborted"

    @property
    def is_waiting(self) -> bool:
        return self in (RunStatus.created, RunStatus.scheduled)

    @property
    def is_done(self) -> bool:
        return self in (RunStatus.finished, RunStatus.failed, RunStatus.aborted)


class HostStatus(str, enum.Enum):
    finished = "finished"
    failed = "failed"
    aborted = "aborted"  # the run was aborted before this host's task began


def _status_type(enum_class: type[enum.Enum]) -> Enum:
    # Stored as its plain value in a VARCHAR: readable in SQL, no database enum type to migrate.
    return Enum(enum_class, native_enum=False, length=20, values_callable=lambda members: [m.value for m in members])


class ElementFields:
    """What defaults, groups and hosts may each set (Nornir's inventory element)."""

    hostname: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet tokens: the password, and the connection options as JSON (they
    # carry passwords and enable secrets of their own).
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    connection_options_encrypted: Mapped[str | None] = mapped_column(Text)

    @property
    def password_set(self) -> bool:
        return self.password_encrypted is not None

    @property
    def connection_options_set(self) -> bool:
        return self.connection_options_encrypted is not None


class Inventory(Base):
    __tablename__ = "jobs_inventory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    defaults: Mapped[InventoryDefaults | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class InventoryDefaults(ElementFields, Base):
    __tablename__ = "jobs_defaults"

    inventory_id: Mapped[int] = mapped_column(ForeignKey("jobs_inventory.id", ondelete="CASCADE"), primary_key=True)


class InventoryGroup(ElementFields, Base):
    __tablename__ = "jobs_group"
    __table_args__ = (UniqueConstraint("inventory_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("jobs_inventory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))

    parent_links: Mapped[list[InventoryGroupParent]] = relationship(
        foreign_keys="InventoryGroupParent.group_id",
        order_by="InventoryGroupParent.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    # Parent group names in order: the order decides which group's data wins.
    groups: AssociationProxy[list[str]] = association_proxy("parent_links", "parent_name")


class InventoryGroupParent(Base):
    __tablename__ = "jobs_group_parent"

    group_id: Mapped[int] = mapped_column(ForeignKey("jobs_group.id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("jobs_group.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    parent: Mapped[InventoryGroup] = relationship(foreign_keys=[parent_id], lazy="joined")

    @property
    def parent_name(self) -> str:
        return self.parent.name


class InventoryHost(ElementFields, Base):
    __tablename__ = "jobs_host"
    __table_args__ = (UniqueConstraint("inventory_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("jobs_inventory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))

    group_links: Mapped[list[InventoryHostGroup]] = relationship(
        order_by="InventoryHostGroup.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    groups: AssociationProxy[list[str]] = association_proxy("group_links", "group_name")


class InventoryHostGroup(Base):
    __tablename__ = "jobs_host_group"

    host_id: Mapped[int] = mapped_column(ForeignKey("jobs_host.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("jobs_group.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)

    group: Mapped[InventoryGroup] = relationship(lazy="joined")

    @property
    def group_name(self) -> str:
        return self.group.name


class Run(Base):
    """One launch of a template on (part of) an inventory.

    ``variables`` never hold the values of sensitive parameters: those travel
    to the worker encrypted, with the queued task, and are gone after it.
    """

    __tablename__ = "jobs_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(150), index=True)
    inventory_id: Mapped[int | None] = mapped_column(ForeignKey("jobs_inventory.id", ondelete="SET NULL"), index=True)
    status: Mapped[RunStatus] = mapped_column(_status_type(RunStatus), default=RunStatus.created, index=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    queue_task_id: Mapped[str | None] = mapped_column(String(64))
    relaunch_of_id: Mapped[int | None] = mapped_column(ForeignKey("jobs_run.id", ondelete="SET NULL"))
    preset_id: Mapped[int | None] = mapped_column(ForeignKey("jobs_preset.id", ondelete="SET NULL"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("jobs_schedule.id", ondelete="SET NULL"))
    hosts_total: Mapped[int] = mapped_column(Integer, default=0)
    hosts_failed: Mapped[int] = mapped_column(Integer, default=0)
    # While running: until when the worker holds the run. It renews the lease as it
    # goes; once it has expired the worker is taken for gone (see services.mark_lost_runs).
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The hosts the filters chose, known once the run started: those without a
    # result are failed if its worker is lost.
    selected_hosts: Mapped[list[str] | None] = mapped_column(JSON)

    inventory: Mapped[Inventory | None] = relationship()


class RunHost(Base):
    """The outcome of a run on one host, in Nornir's shape (``result`` is the task tree)."""

    __tablename__ = "jobs_run_host"
    __table_args__ = (UniqueConstraint("run_id", "host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("jobs_run.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(255))
    status: Mapped[HostStatus] = mapped_column(_status_type(HostStatus))
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Preset(Base):
    """A saved launch configuration (the original's "task template")."""

    __tablename__ = "jobs_preset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    template: Mapped[str] = mapped_column(String(150))
    inventory_id: Mapped[int] = mapped_column(ForeignKey("jobs_inventory.id", ondelete="CASCADE"), index=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Schedule(Base):
    """Launches a preset on a cron expression or every ``interval_seconds``, in ``timezone``."""

    __tablename__ = "jobs_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    preset_id: Mapped[int] = mapped_column(ForeignKey("jobs_preset.id", ondelete="CASCADE"), index=True)
    cron: Mapped[str | None] = mapped_column(String(100))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))

    preset: Mapped[Preset] = relationship(lazy="joined")


# Nornir's own default. The original system ran 200 threads; netmiko and
# paramiko grow unreliable at such counts, so it is a choice left to admins.
DEFAULT_NUM_WORKERS = 20


class RunnerConfiguration(Base):
    """The Nornir runner every run uses; one row (id 1), created with the defaults on first change."""

    __tablename__ = "jobs_runner_configuration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner: Mapped[str] = mapped_column(String(20), default="threaded")
    num_workers: Mapped[int] = mapped_column(Integer, default=DEFAULT_NUM_WORKERS)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @classmethod
    def current(cls, db: Any) -> RunnerConfiguration:
        """The stored configuration, or the defaults while none is stored."""
        return db.get(cls, 1) or cls(id=1, runner="threaded", num_workers=DEFAULT_NUM_WORKERS)
