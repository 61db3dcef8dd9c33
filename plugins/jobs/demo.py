"""Demo data of the original system: its two inventories, one user per default group, presets.

The templates need no rows: the built-in ones are installed with the plugin.
Demo inventories carry no credentials (the hook gets no settings, so no key
to encrypt them with); demo users log in with the password ``demo-password``.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select

from pyramidion.auth.models import Group, User

from .inventory import import_simple_inventory
from .models import Inventory, Preset

DEMO_PASSWORD = "demo-password"

EXAMPLE_HOSTS = """
router-1:
  hostname: 192.0.2.1
  platform: ios
  groups: [core]
  data: {site: zurich, role: core}
router-2:
  hostname: 192.0.2.2
  platform: ios
  groups: [core]
  data: {site: geneva, role: core}
switch-1:
  hostname: 192.0.2.11
  platform: nxos_ssh
  groups: [access]
  data: {site: zurich}
"""
EXAMPLE_GROUPS = """
core:
  data: {role: core, backup: true}
access:
  data: {role: access}
"""
EXAMPLE_DEFAULTS = """
port: 22
data: {domain: example.net}
"""

LAB_HOSTS = """
lab-r1:
  hostname: 198.51.100.1
  groups: [cisco]
  data: {rack: A1}
lab-r2:
  hostname: 198.51.100.2
  groups: [cisco]
  data: {rack: A2}
lab-sw1:
  hostname: 198.51.100.10
  groups: [arista]
  data: {rack: A1}
"""
LAB_GROUPS = """
cisco:
  platform: ios
  groups: [lab]
arista:
  platform: eos
  groups: [lab]
lab:
  data: {location: INS Rapperswil}
"""

INVENTORIES = {
    "Example": ("Sample devices", EXAMPLE_HOSTS, EXAMPLE_GROUPS, EXAMPLE_DEFAULTS),
    "INS Lab": ("The INS lab racks", LAB_HOSTS, LAB_GROUPS, None),
}

PRESETS = [
    ("Hello Example", "hello_world", "Example", {}),
    ("Ping gateway from the lab", "ping", "INS Lab", {"target": "198.51.100.254", "count": 3}),
    ("Lab interfaces", "get_interfaces", "INS Lab", {}),
]

USERS = {"superuser": "superuser", "netadmin": "netadmin", "support": "support"}  # username: group


def add_demo_data(db: Any) -> None:
    inventories = {}
    for name, (description, hosts, groups, defaults) in INVENTORIES.items():
        inventory = db.scalar(select(Inventory).where(Inventory.name == name))
        if inventory is None:
            inventory = Inventory(name=name, description=description)
            db.add(inventory)
            import_simple_inventory(db, inventory, None, hosts, groups, defaults)
        inventories[name] = inventory
    for name, template, inventory, variables in PRESETS:
        if db.scalar(select(Preset).where(Preset.name == name)) is None:
            db.add(
                Preset(
                    name=name,
                    template=template,
                    inventory_id=inventories[inventory].id,
                    variables=variables,
                    filters={},
                )
            )
    hasher = PasswordHasher()
    for username, group_name in USERS.items():
        if db.scalar(select(User).where(User.username == username)) is not None:
            continue
        user = User(username=username, email=f"{username}@example.com", password_hash=hasher.hash(DEMO_PASSWORD))
        group = db.scalar(select(Group).where(Group.name == group_name))
        if group is not None:
            user.groups.append(group)
        db.add(user)
    db.flush()
