"""Inventories, their hosts, groups and defaults."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pyramidion.api import Filter, Invalid, Listing, ensure_unique, get_or_404
from pyramidion.auth import Identity

from .. import schemas as s
from ..credentials import Cipher
from ..inventory import InventoryFormatError, import_simple_inventory, merged_host, set_element_fields, set_group_links
from ..models import (
    Inventory,
    InventoryDefaults,
    InventoryGroup,
    InventoryGroupParent,
    InventoryHost,
    InventoryHostGroup,
)
from .access import INVENTORY, require

Member = InventoryHost | InventoryGroup

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


def inventory_choices(db: Session) -> list[tuple[int, str]]:
    """Every inventory as ``(id, name)``, by name: what a launch form offers."""
    return [(row.id, row.name) for row in db.execute(select(Inventory.id, Inventory.name).order_by(Inventory.name))]


def get_inventory(db: Session, inventory_id: Any) -> Inventory:
    """The inventory, or a 404."""
    return get_or_404(db, Inventory, inventory_id, what="inventory")


def create_inventory(db: Session, caller: Identity, body: s.InventoryIn) -> Inventory:
    """A new, empty inventory."""
    require(db, caller, INVENTORY)
    ensure_unique(db, Inventory.name, body.name)
    inventory = Inventory(name=body.name, description=body.description, created_by_id=caller.user.id)
    inventory.defaults = InventoryDefaults(data={})
    db.add(inventory)
    db.flush()
    return inventory


def import_inventory(db: Session, caller: Identity, cipher: Cipher, body: s.InventoryImport) -> dict[str, Any]:
    """A new inventory from SimpleInventory YAML: ``{inventory, hosts, groups}`` (how many were added)."""
    require(db, caller, INVENTORY)
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
    require(db, caller, INVENTORY)
    inventory = get_inventory(db, inventory_id)
    changes = body.changes()
    if "name" in changes:
        ensure_unique(db, Inventory.name, changes["name"], exclude=inventory.id)
    for field, value in changes.items():
        setattr(inventory, field, value)
    return inventory


def delete_inventory(db: Session, caller: Identity, inventory_id: Any) -> None:
    """Delete an inventory with its hosts, groups and presets; past runs stay, without it."""
    require(db, caller, INVENTORY)
    db.delete(get_inventory(db, inventory_id))


def get_defaults(db: Session, inventory_id: Any) -> InventoryDefaults:
    """The inventory's defaults (empty ones when none were stored)."""
    inventory = get_inventory(db, inventory_id)
    return inventory.defaults or InventoryDefaults(inventory_id=inventory.id, data={})


def change_defaults(
    db: Session, caller: Identity, cipher: Cipher, inventory_id: Any, body: s.ElementPatch
) -> InventoryDefaults:
    """Change the defaults; fields left out stay as they are."""
    require(db, caller, INVENTORY)
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
    require(db, caller, INVENTORY)
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
    require(db, caller, INVENTORY)
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
    require(db, caller, INVENTORY)
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


def check_inventory(db: Session, inventory_id: int) -> None:
    if db.get(Inventory, inventory_id) is None:
        raise Invalid.field("inventory_id", f"no inventory {inventory_id}")


def check_hosts_exist(db: Session, inventory_id: int, names: list[str] | None) -> None:
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
