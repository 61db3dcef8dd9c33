"""The plugin registry: a pluggy ``PluginManager`` filled from entry points.

First-party and third-party plugins are found the same way, in the entry-point
group ``pyramidion.plugins``. ``pyramidion.plugins.enabled`` (only these) and
``pyramidion.plugins.disabled`` (all but these) choose what loads. A plugin
that fails to import, or wants another core version, stops startup with a
message naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from importlib.metadata import version as dist_version
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs
from .hookspecs import hookimpl
from .settings import SettingsError, as_list

GROUP = "pyramidion.plugins"
CORE = "core"  # the name the core's own hook implementations (pyramidion.builtin) are registered under


__all__ = ["CORE", "PluginError", "PluginManager", "describe", "hookimpl", "load_plugins"]


class PluginError(SettingsError):
    """A plugin cannot be loaded; the message names it."""


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    version: str | None
    distribution: str | None
    hooks: tuple[str, ...]


def core_version() -> str:
    return dist_version("pyramidion")


def _check_core_version(name: str, plugin: Any) -> None:
    # A plugin says which core it works with as ``requires_core = ">=0.1,<1"``.
    wanted = getattr(plugin, "requires_core", None)
    if not wanted:
        return
    try:
        spec = SpecifierSet(wanted)
    except InvalidSpecifier:
        raise PluginError(f"plugin {name!r}: requires_core {wanted!r} is not a version range") from None
    have = core_version()
    if Version(have) not in spec:
        raise PluginError(f"plugin {name!r} needs pyramidion {wanted}, but {have} is installed")


def _selected(eps: Iterable[EntryPoint], settings: dict[str, Any]) -> list[EntryPoint]:
    enabled = as_list(settings.get("pyramidion.plugins.enabled"))
    disabled = set(as_list(settings.get("pyramidion.plugins.disabled")))
    by_name = {ep.name: ep for ep in eps}
    unknown = [name for name in enabled if name not in by_name]
    if unknown:
        raise PluginError(
            f"pyramidion.plugins.enabled names {', '.join(unknown)}, which no installed "
            f"package provides (installed: {', '.join(sorted(by_name)) or 'none'})"
        )
    names = enabled if enabled else sorted(by_name)
    return [by_name[name] for name in names if name not in disabled]


def _load(ep: EntryPoint) -> ModuleType:
    try:
        return ep.load()
    except Exception as exc:  # any import error must name the plugin
        raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}") from exc


class PluginManager(pluggy.PluginManager):
    """pluggy's manager with the core hookspecs and where each plugin came from."""

    def __init__(self) -> None:
        super().__init__("pyramidion")
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, Any] = {}

    @property
    def names(self) -> list[str]:
        """The plugins' names, in the order they were registered (the core's own hooks left out)."""
        return [name for name, _ in self.list_name_plugin() if name != CORE]

    def register_plugin(self, plugin: Any, name: str) -> None:
        """Register ``plugin`` as ``name``, refusing a name already taken (``core`` is the core's)."""
        if self.has_plugin(name):
            raise PluginError(f"plugin {name!r}: another plugin (or the core) is registered under that name")
        _check_core_version(name, plugin)
        self.register(plugin, name=name)


def core_plugin_manager() -> PluginManager:
    """A plugin manager holding the core's own hook implementations only."""
    from . import builtin

    pm = PluginManager()
    pm.register(builtin, name=CORE)
    return pm


def load_plugins(settings: dict[str, Any], extra: Iterable[tuple[str, Any]] = ()) -> PluginManager:
    """Build the plugin manager: the core's own hooks, selected entry points, then ``extra``.

    ``extra`` are ``(name, plugin)`` pairs registered as if installed; tests use
    it to add a plugin to one app.
    """
    pm = core_plugin_manager()
    for ep in _selected(entry_points(group=GROUP), settings):
        pm.register_plugin(_load(ep), ep.name)
        pm.distributions[ep.name] = ep.dist
    for name, plugin in extra:
        pm.register_plugin(plugin, name)
    pm.hook.pyramidion_addhooks(pm=pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {pm.get_name(exc.plugin)!r}: {exc}") from None
    return pm


def describe(pm: PluginManager, include_core: bool = False) -> list[PluginInfo]:
    """What loaded, with versions and the hooks each implements; the core's own hooks if asked."""
    infos = []
    for name, plugin in pm.list_name_plugin():
        if name == CORE and not include_core:
            continue
        dist = pm.distributions.get(name)
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        infos.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                version=dist.version
                if dist
                else core_version()
                if name == CORE
                else getattr(plugin, "__version__", None),
                distribution=dist.name if dist else "pyramidion" if name == CORE else None,
                hooks=hooks,
            )
        )
    return infos
