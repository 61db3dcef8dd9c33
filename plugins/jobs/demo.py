"""Demo data of the original system: its two inventories, one user per default group, presets.

The templates need no rows: the built-in ones are installed with the plugin.
Demo inventories carry no credentials (their devices are documentation
addresses). Demo users log in with the one demo password scheme,
``<username>-password`` (:func:`pyramidion.demo.demo_user`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pyramidion.demo import demo_user

from .inventory import import_simple_inventory
from .models import Inventory, Preset

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

# One user per default group, named after it.
USERS = ("superuser", "netadmin", "support")


def add_demo_data(db: Any, registry: Any) -> None:
    """Add what is missing of the demo inventories, presets and users (safe to run twice)."""
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
    for username in USERS:
        demo_user(db, registry, username, groups=[username])
    db.flush()
