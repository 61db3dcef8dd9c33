"""The plugin registry: discovery, selection, and startup errors that name the plugin."""

from __future__ import annotations

import types

import pytest

import pyramidion
from pyramidion import hookimpl
from pyramidion.plugins import PluginError, load_plugins

FIRST_PARTY = {"jobs", "bar", "robots", "tasks", "rentals"}


def test_every_first_party_plugin_is_discovered_through_entry_points(app, make_user, login):
    plugins = app.get("/api/plugins", headers=login(make_user("ann"))).json
    names = {p["name"] for p in plugins}
    assert names >= FIRST_PARTY
    rentals = next(p for p in plugins if p["name"] == "rentals")
    assert rentals["distribution"] == "pyramidion" and rentals["version"] == pyramidion.plugins.core_version()


def test_plugin_list_needs_a_login(app):
    response = app.get("/api/plugins", status=401)
    assert response.json["error"]["status"] == 401


def test_enabled_loads_only_the_plugins_named():
    assert load_plugins({"pyramidion.plugins.enabled": "rentals tasks"}).names == ["rentals", "tasks"]


def test_disabled_plugins_do_not_load():
    names = load_plugins({"pyramidion.plugins.disabled": "bar, jobs"}).names
    assert "bar" not in names and "jobs" not in names and "rentals" in names


def test_enabling_a_plugin_that_is_not_installed_is_a_clear_error():
    with pytest.raises(
        PluginError, match="pyramidion.plugins.enabled names nosuch, which no installed package provides"
    ):
        load_plugins({"pyramidion.plugins.enabled": "nosuch"})


def test_a_plugin_for_another_core_version_is_refused_by_name():
    plugin = types.SimpleNamespace(requires_core=">=99")
    with pytest.raises(PluginError, match=r"plugin 'future' needs pyramidion >=99"):
        load_plugins({"pyramidion.plugins.enabled": "rentals"}, extra=[("future", plugin)])


@pytest.fixture
def broken_distribution(tmp_path, monkeypatch):
    """An installed distribution whose plugin module fails to import."""
    (tmp_path / "broken_plugin.py").write_text("import no_such_module_anywhere\n")
    info = tmp_path / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pyramidion.plugins]\nbroken = broken_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_plugin_that_fails_to_import_stops_startup_naming_it(broken_distribution, base_settings, capsys):
    with pytest.raises(SystemExit) as exit_:
        pyramidion.main({}, **{**base_settings, "pyramidion.plugins.enabled": ""})
    assert exit_.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0, "one line, not a traceback"
    assert message.startswith("pyramidion: plugin 'broken' (broken_plugin) failed to import: ModuleNotFoundError")


class Recorder:
    """A plugin registered for one app: sees the settings and adds a route under its prefix."""

    def __init__(self) -> None:
        self.seen_settings = None

    @hookimpl
    def pyramidion_settings(self, settings):
        self.seen_settings = dict(settings)
        settings.setdefault("recorder.greeting", "hi")

    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("recorder.hello", "/hello")
        config.add_api_view(
            lambda request: {"greeting": request.registry.settings["recorder.greeting"]},
            "recorder.hello",
            permission=pyramidion.api.views.AUTHENTICATED,
        )


def test_a_plugin_gets_its_routes_under_its_prefix_and_its_settings(make_app, make_user, login):
    recorder = Recorder()
    app = make_app(extra_plugins=[("recorder", recorder)])
    assert recorder.seen_settings["huey.url"] == "immediate"
    assert app.get("/api/recorder/hello", headers=login(make_user("ann"))).json == {"greeting": "hi"}
    assert "/api/recorder/hello" in app.get("/api/openapi.json").json["paths"]
