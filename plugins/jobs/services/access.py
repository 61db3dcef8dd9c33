"""Who may change what: the plugin's permissions, its default groups, and the check every use case makes."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy.orm import Session

from pyramidion.auth import Identity

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


def may(db: Session, caller: Identity | None, permission: str) -> bool:
    """Whether ``caller`` holds ``permission`` (superusers hold every one)."""
    if caller is None:
        return False
    return caller.holds(db, permission)


def require(db: Session, caller: Identity | None, permission: str) -> None:
    if not may(db, caller, permission):
        raise HTTPForbidden(f"permission denied: {permission} is needed")
