"""The core's own hook implementations, registered like any plugin's.

As Datasette's default plugins do, the core declares its permissions, its
default group, its migrations and its real-time commands through the same
hooks a plugin implements, so there is one way in for each and no special
path. :func:`pyramidion.plugins.load_plugins` registers this module first,
under the name ``core``; the plugin lists (``GET /api/plugins``,
``pyramidion plugins``) leave it out unless asked (``pyramidion plugins --all``).
"""

from __future__ import annotations

from typing import Any

from .auth.permissions import CORE_GROUPS, CORE_PERMISSIONS
from .hookspecs import hookimpl
from .revisions import environment_dir


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return list(CORE_PERMISSIONS.items())


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return CORE_GROUPS


@hookimpl
def pyramidion_migrations() -> str:
    return str(environment_dir() / "versions")


@hookimpl
def pyramidion_commands(subparsers: Any) -> None:
    from .commands import ini_argument
    from .realtime.commands import add_commands

    add_commands(subparsers, ini_argument)
