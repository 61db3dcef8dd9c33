"""Permissions and default groups, from the core and every plugin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..settings import SettingsError
from .models import Group, GroupPermission

CORE_PERMISSIONS = {
    "auth.admin": "manage users, groups and other users' API keys",
}

CORE_GROUPS = {
    "administrators": ["auth.admin"],
}


def collect_permissions(registry: Any) -> None:
    """Gather every permission and default group into the registry, checking names."""
    # The core declares its own through the same hooks (pyramidion.builtin).
    # Hooks answer last-registered first: reversed, the core's come first.
    permissions: dict[str, str] = {}
    for declared in reversed(registry.pm.hook.pyramidion_permissions()):
        permissions.update(dict(declared or ()))
    groups: dict[str, list[str]] = {}
    for declared in reversed(registry.pm.hook.pyramidion_groups()):
        for name, perms in (declared or {}).items():
            groups.setdefault(name, [])
            groups[name] += [p for p in perms if p not in groups[name]]
    for name, perms in groups.items():
        unknown = [p for p in perms if p not in permissions]
        if unknown:
            raise SettingsError(f"default group {name!r} names unknown permission(s): {', '.join(unknown)}")
    registry.permissions = permissions
    registry.default_groups = groups


def create_default_groups(db: Any, registry: Any) -> list[str]:
    """Create missing default groups and grant missing permissions; returns what changed."""
    changes = []
    for name, perms in registry.default_groups.items():
        group = db.scalar(select(Group).where(Group.name == name))
        if group is None:
            group = Group(name=name, description=f"default group: {name}")
            db.add(group)
            changes.append(f"created group {name}")
        have = set(group.permissions)
        for perm in perms:
            if perm not in have:
                group.grants.append(GroupPermission(permission=perm))
                changes.append(f"granted {perm} to {name}")
    db.flush()
    return changes
