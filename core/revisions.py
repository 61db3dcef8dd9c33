"""Where each migration source stands: its folder, its version table, its head revision.

Read without Alembic, because the readiness check (:mod:`pyramidion.health`)
asks it in every web process, and Alembic with Mako costs a web process about
8 MiB (issue 17). A revision file is read as text (``ast``), never imported:
its ``revision`` and ``down_revision`` are all a head needs. Upgrading and
writing revisions stay in :mod:`pyramidion.migrations`.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from .plugins import CORE
from .settings import SettingsError

CORE_TABLE_PREFIXES = ("auth_",)


def environment_dir() -> Path:
    """The ``alembic/`` folder: beside ``core/`` in a checkout, under ``share/`` once installed."""
    for candidate in (
        Path(__file__).resolve().parent.parent / "alembic",
        Path(sys.prefix) / "share" / "pyramidion" / "alembic",
    ):
        if (candidate / "env.py").is_file():
            return candidate
    raise SettingsError("cannot find the Alembic environment (alembic/env.py)")


@dataclasses.dataclass(frozen=True)
class Source:
    """The core or one plugin: its folder of revisions, its version table, the table prefixes it owns."""

    name: str
    versions: Path
    version_table: str
    prefixes: tuple[str, ...]

    def owns(self, table: str) -> bool:
        return table.startswith(self.prefixes)

    def head(self) -> str | None:
        """The head revision of the folder (heads joined by commas, sorted), None for an empty folder."""
        parents: dict[str, tuple[str, ...]] = {}
        for path in sorted(self.versions.glob("*.py")):
            names = _assigned(path, ("revision", "down_revision"))
            if isinstance(names.get("revision"), str):
                down = names.get("down_revision")
                parents[names["revision"]] = (down,) if isinstance(down, str) else tuple(down or ())
        children = {parent for ups in parents.values() for parent in ups}
        return ",".join(sorted(set(parents) - children)) or None


def _assigned(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a module assigns at its top level to ``names`` (annotated or not)."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


def sources(registry: Any) -> list[Source]:
    """The core, then every plugin with revisions, in the order they were registered.

    The core declares its folder through the same hook as a plugin
    (:mod:`pyramidion.builtin`); it keeps Alembic's default version table.
    """
    found = []
    declared = {impl.plugin_name: impl for impl in registry.pm.hook.pyramidion_migrations.get_hookimpls()}
    for name, plugin in registry.pm.list_name_plugin():
        impl = declared.get(name)
        folder = Path(impl.function()) if impl is not None else conventional_folder(plugin)
        if folder is None:
            continue
        if not folder.is_dir():
            raise SettingsError(f"plugin {name!r}: migrations folder {folder} does not exist")
        if name == CORE:
            found.append(Source(name, folder, "alembic_version", CORE_TABLE_PREFIXES))
        else:
            found.append(Source(name, folder, f"alembic_version_{name}", (f"{name}_",)))
    return found


def conventional_folder(plugin: Any) -> Path | None:
    """A plugin package's ``migrations/`` folder beside its ``__init__.py``, if it has one.

    Only a package has one: a plugin that is a single module (or an object a
    test registers) keeps its revisions, if any, where its hook says.
    """
    for package_dir in getattr(plugin, "__path__", None) or ():
        folder = Path(package_dir) / "migrations"
        if folder.is_dir():
            return folder
    return None


def heads(registry: Any) -> dict[str, str | None]:
    """Each source's head revision, read from its folder once per process.

    The revision files of a running process do not change (a new revision
    comes with a new release, hence a restart), so health checks compare the
    database against this without reading every revision file each time.
    """
    found = getattr(registry, "migration_heads", None)
    if found is None:
        found = registry.migration_heads = {source.name: source.head() for source in sources(registry)}
    return found


def revisions(registry: Any, connection: Any) -> list[tuple[str, str | None, str | None]]:
    """``(source, revision in the database, head revision)`` for every source, on ``connection``.

    One small query per source (its version table, which may not exist yet);
    the heads come from :func:`heads`.
    """
    tables = getattr(registry, "migration_version_tables", None)
    if tables is None:
        tables = registry.migration_version_tables = {source.name: source.version_table for source in sources(registry)}
    existing = set(inspect(connection).get_table_names())
    rows = []
    for name, head in heads(registry).items():
        table = tables[name]
        revision = None
        if table in existing:
            found = sorted(connection.execute(text(f'SELECT version_num FROM "{table}"')).scalars())
            revision = ",".join(found) or None
        rows.append((name, revision, head))
    return rows
