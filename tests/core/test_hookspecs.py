"""Every hook a plugin may implement is documented where it is declared."""

from __future__ import annotations

import inspect
import types

import pluggy

from pyramidion import hookspecs
from pyramidion.plugins import PluginManager, load_plugins


def undocumented_hookspecs(pm: pluggy.PluginManager) -> list[str]:
    """The hooks of ``pm`` whose specification has no docstring, by name."""
    missing = []
    for name in sorted(vars(pm.hook)):
        caller = getattr(pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is not None and not (inspect.getdoc(spec.function) or "").strip():
            missing.append(name)
    return missing


def test_every_core_hookspec_has_a_docstring():
    assert undocumented_hookspecs(PluginManager()) == []


def test_every_hookspec_a_plugin_adds_has_a_docstring():
    pm = load_plugins({})  # every installed plugin, with the hookspecs each adds
    assert pm.names, "no plugin is installed: nothing to check"
    assert undocumented_hookspecs(pm) == []


def test_an_undocumented_hookspec_is_found():
    extra = types.ModuleType("extra_hookspecs")

    @hookspecs.hookspec
    def pyramidion_mystery(thing):
        pass

    extra.pyramidion_mystery = pyramidion_mystery
    pm = PluginManager()
    pm.add_hookspecs(extra)
    assert undocumented_hookspecs(pm) == ["pyramidion_mystery"]
