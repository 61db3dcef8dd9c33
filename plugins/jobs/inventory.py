"""Inventories between the database and Nornir.

:class:`DatabaseInventory` is a Nornir inventory plugin (entry point
``nornir.plugins.inventory: PyramidionInventory``) that builds Nornir's
inventory from the jobs tables, decrypting credentials on the way.
:func:`import_simple_inventory` fills an inventory from SimpleInventory's
three YAML documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from .credentials import Cipher
from .models import (
    ElementFields,
    Inventory,
    InventoryDefaults,
    InventoryGroup,
    InventoryGroupParent,
    InventoryHost,
    InventoryHostGroup,
)

# Nornir and ruamel.yaml are imported where a request or a run needs them, not by every web process.
if TYPE_CHECKING:
    from nornir.core import inventory as nornir_inventory

ELEMENT_FIELDS = ("hostname", "port", "username", "platform")


def _connection_options(options: dict[str, Any] | None) -> dict[str, nornir_inventory.ConnectionOptions]:
    from nornir.core import inventory as nornir_inventory

    return {
        name: nornir_inventory.ConnectionOptions(
            hostname=o.get("hostname"),
            port=o.get("port"),
            username=o.get("username"),
            password=o.get("password"),
            platform=o.get("platform"),
            extras=o.get("extras"),
        )
        for name, o in (options or {}).items()
    }


def _element_kwargs(row: Any, cipher: Cipher) -> dict[str, Any]:
    """Nornir's keyword arguments from a row of element fields (an ORM object or a plain row)."""
    if row is None:
        return {}
    return {
        "hostname": row.hostname,
        "port": row.port,
        "username": row.username,
        "password": cipher.decrypt(row.password_encrypted),
        "platform": row.platform,
        "data": dict(row.data or {}),
        "connection_options": _connection_options(cipher.decrypt(row.connection_options_encrypted)),
    }


def load_inventory(
    db: Session, inventory_id: int, cipher: Cipher, host_names: Iterable[str] | None = None
) -> nornir_inventory.Inventory:
    """Nornir's inventory for ``inventory_id``; only ``host_names`` when given (every group either way)."""
    from nornir.core import inventory as nornir_inventory

    defaults = nornir_inventory.Defaults(**_element_kwargs(db.get(InventoryDefaults, inventory_id), cipher))
    group_rows = db.scalars(
        select(InventoryGroup)
        .where(InventoryGroup.inventory_id == inventory_id)
        .options(selectinload(InventoryGroup.parent_links))
    ).all()
    groups = nornir_inventory.Groups(
        (row.name, nornir_inventory.Group(name=row.name, defaults=defaults, **_element_kwargs(row, cipher)))
        for row in group_rows
    )
    by_id = {row.id: groups[row.name] for row in group_rows}
    for row in group_rows:
        groups[row.name].groups = nornir_inventory.ParentGroups(by_id[link.parent_id] for link in row.parent_links)

    # Hosts are many: plain rows, not ORM objects, keep the load quick.
    host_filter = [InventoryHost.inventory_id == inventory_id]
    if host_names is not None:
        host_filter.append(InventoryHost.name.in_(list(host_names)))
    memberships: dict[int, list[int]] = {}
    for host_id, group_id in db.execute(
        select(InventoryHostGroup.host_id, InventoryHostGroup.group_id)
        .join(InventoryHost, InventoryHost.id == InventoryHostGroup.host_id)
        .where(*host_filter)
        .order_by(InventoryHostGroup.host_id, InventoryHostGroup.position)
    ):
        memberships.setdefault(host_id, []).append(group_id)
    host_columns = [
        getattr(InventoryHost, name)
        for name in ("id", "name", *ELEMENT_FIELDS, "data", "password_encrypted", "connection_options_encrypted")
    ]
    hosts = nornir_inventory.Hosts()
    for row in db.execute(select(*host_columns).where(*host_filter)):
        hosts[row.name] = nornir_inventory.Host(
            name=row.name,
            groups=nornir_inventory.ParentGroups(by_id[group_id] for group_id in memberships.get(row.id, ())),
            defaults=defaults,
            **_element_kwargs(row, cipher),
        )
    return nornir_inventory.Inventory(hosts=hosts, groups=groups, defaults=defaults)


class DatabaseInventory:
    """Nornir inventory plugin over the jobs tables.

    ``InitNornir(inventory={"plugin": "PyramidionInventory", "options": {"session_factory": ...,
    "inventory_id": 1, "cipher": ...}})``; it reads in a short transaction of its own.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        inventory_id: int,
        cipher: Cipher,
        host_names: Iterable[str] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.inventory_id = inventory_id
        self.cipher = cipher
        self.host_names = host_names

    def load(self) -> nornir_inventory.Inventory:
        with self.session_factory() as db:
            return load_inventory(db, self.inventory_id, self.cipher, self.host_names)


def merged_host(db: Session, inventory_id: int, name: str, cipher: Cipher) -> dict[str, Any] | None:
    """A host as Nornir sees it: fields and data resolved through its groups and the defaults."""
    host = load_inventory(db, inventory_id, cipher, [name]).hosts.get(name)
    if host is None:
        return None
    return {
        "name": host.name,
        "hostname": host.hostname,
        "port": host.port,
        "username": host.username,
        "platform": host.platform,
        "groups": [group.name for group in host.groups],
        "extended_groups": [group.name for group in host.extended_groups()],
        "data": host.extended_data(),
    }


# -- writing ---------------------------------------------------------------------


class InventoryFormatError(ValueError):
    """A SimpleInventory document is not what Nornir would accept; the message says where."""


def set_element_fields(row: ElementFields, values: dict[str, Any], cipher: Cipher | None) -> None:
    """Write the given element fields of ``row``, encrypting credentials; absent keys stay.

    Without a ``cipher`` (demo data has no settings) credentials are refused.
    """
    if cipher is None and (values.get("password") is not None or values.get("connection_options")):
        raise InventoryFormatError("credentials given, but no key to encrypt them with")
    for field in ELEMENT_FIELDS:
        if field in values:
            setattr(row, field, values[field])
    if "data" in values:
        row.data = values["data"] or {}
    if "password" in values:
        row.password_encrypted = cipher.encrypt(values["password"]) if values["password"] is not None else None
    if "connection_options" in values:
        options = values["connection_options"] or None
        row.connection_options_encrypted = cipher.encrypt(options) if options is not None else None


def set_group_links(db: Session, row: InventoryHost | InventoryGroup, inventory_id: int, names: list[str]) -> list[str]:
    """Point ``row`` at the groups ``names`` in order; returns the names that do not exist."""
    found = {
        g.name: g
        for g in db.scalars(
            select(InventoryGroup).where(InventoryGroup.inventory_id == inventory_id, InventoryGroup.name.in_(names))
        )
    }
    missing = [name for name in names if name not in found]
    if missing:
        return missing
    if isinstance(row, InventoryHost):
        row.group_links = [InventoryHostGroup(group=found[name]) for name in names]
    else:
        row.parent_links = [InventoryGroupParent(parent=found[name]) for name in names]
    return []


def _yaml_mapping(text: str | None, what: str) -> dict[str, Any]:
    import ruamel.yaml

    if not text or not text.strip():
        return {}
    try:
        loaded = ruamel.yaml.YAML(typ="safe").load(text)
    except ruamel.yaml.YAMLError as exc:
        raise InventoryFormatError(f"{what}: not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InventoryFormatError(f"{what}: must be a mapping")
    return loaded


def _element_values(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InventoryFormatError(f"{where}: must be a mapping")
    known = set(ELEMENT_FIELDS) | {"password", "data", "connection_options", "groups"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InventoryFormatError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    if raw.get("port") is not None and not isinstance(raw["port"], int):
        raise InventoryFormatError(f"{where}.port: must be a whole number")
    for key in ("data", "connection_options"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise InventoryFormatError(f"{where}.{key}: must be a mapping")
    if raw.get("groups") is not None and not isinstance(raw["groups"], list):
        raise InventoryFormatError(f"{where}.groups: must be a list of group names")
    return raw


def import_simple_inventory(
    db: Session,
    inventory: Inventory,
    cipher: Cipher | None,
    hosts: str,
    groups: str | None = None,
    defaults: str | None = None,
) -> tuple[int, int]:
    """Fill the new, empty ``inventory`` from SimpleInventory YAML; returns ``(hosts, groups)`` added.

    Raises :class:`InventoryFormatError` naming the first problem; the caller's
    transaction is then rolled back, so nothing half-imported stays.
    """
    host_map = _yaml_mapping(hosts, "hosts")
    group_map = _yaml_mapping(groups, "groups")
    defaults_values = _element_values(_yaml_mapping(defaults, "defaults"), "defaults")
    if "groups" in defaults_values:
        raise InventoryFormatError("defaults: cannot have groups")
    db.flush()  # the inventory needs its id
    row = InventoryDefaults(inventory_id=inventory.id, data={})
    set_element_fields(row, defaults_values, cipher)
    db.add(row)

    group_rows: dict[str, InventoryGroup] = {}
    for name, raw in group_map.items():
        values = _element_values(raw, f"groups.{name}")
        group_rows[str(name)] = group = InventoryGroup(inventory_id=inventory.id, name=str(name), data={})
        set_element_fields(group, values, cipher)
        db.add(group)
    for name, raw in group_map.items():
        parents = (raw or {}).get("groups") or []
        missing = [p for p in parents if p not in group_rows]
        if missing:
            raise InventoryFormatError(f"groups.{name}.groups: unknown group(s) {', '.join(map(str, missing))}")
        group_rows[str(name)].parent_links = [InventoryGroupParent(parent=group_rows[p]) for p in parents]
    for name, raw in host_map.items():
        values = _element_values(raw, f"hosts.{name}")
        host = InventoryHost(inventory_id=inventory.id, name=str(name), data={})
        set_element_fields(host, values, cipher)
        member_of = values.get("groups") or []
        missing = [g for g in member_of if g not in group_rows]
        if missing:
            raise InventoryFormatError(f"hosts.{name}.groups: unknown group(s) {', '.join(map(str, missing))}")
        host.group_links = [InventoryHostGroup(group=group_rows[g]) for g in member_of]
        db.add(host)
    db.flush()
    return len(host_map), len(group_map)
