"""The core declares its permissions, migrations and commands through the hooks plugins use."""

from __future__ import annotations

import types

import pytest

from pyramidion import builtin, migrations
from pyramidion.cli import build_parser, main
from pyramidion.plugins import CORE, PluginError, describe, load_plugins


def test_the_core_is_registered_first_under_its_own_name():
    pm = load_plugins({"pyramidion.plugins.enabled": "rentals"})
    assert pm.list_name_plugin()[0] == (CORE, builtin)
    assert pm.names == ["rentals"]  # the plugins, not the core


def test_the_core_permissions_and_group_come_from_its_hooks(registry):
    core = next(info for info in describe(registry.pm, include_core=True) if info.name == CORE)
    assert {"pyramidion_permissions", "pyramidion_groups", "pyramidion_migrations", "pyramidion_commands"} <= set(
        core.hooks
    )
    assert registry.permissions["auth.admin"] == dict(builtin.pyramidion_permissions())["auth.admin"]
    assert registry.default_groups["administrators"][0] == "auth.admin"  # plugins may add to the group
    assert next(iter(registry.default_groups)) == "administrators"  # the core's first, as before


def test_the_core_migrations_come_from_its_hook_with_alembics_own_version_table(registry):
    core = migrations.sources(registry)[0]
    assert core.name == CORE
    assert str(core.versions) == builtin.pyramidion_migrations()
    assert core.version_table == "alembic_version"


def test_a_plugin_may_not_take_the_cores_name():
    with pytest.raises(PluginError, match="plugin 'core': another plugin"):
        load_plugins({"pyramidion.plugins.enabled": "rentals"}, extra=[(CORE, types.ModuleType("impostor"))])


def test_the_router_commands_come_through_the_commands_hook_even_without_plugins():
    parser = build_parser(plugin_commands=False)
    commands = next(action for action in parser._subparsers._group_actions).choices
    assert {"router", "realtime", "db", "plugins"} <= set(commands)


def test_the_plugin_list_leaves_the_core_out_unless_asked(app, make_user, login, tmp_path, base_settings, capsys):
    listed = app.get("/api/plugins", headers=login(make_user("ann"))).json
    assert CORE not in {plugin["name"] for plugin in listed}
    ini = tmp_path / "app.ini"
    ini.write_text("[app:main]\nuse = egg:pyramidion\n" + "\n".join(f"{k} = {v}" for k, v in base_settings.items()))
    main(["plugins", str(ini)])
    assert not capsys.readouterr().out.startswith("core ")
    main(["plugins", "--all", str(ini)])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("core ") and "(pyramidion.builtin)" in first and "pyramidion_migrations" in first
