"""``/``, the public index ``GET /api/`` with plugins' capabilities."""

from __future__ import annotations

from pyramidion import hookimpl


class CapablePlugin:
    @hookimpl
    def pyramidion_capabilities(self):
        return {"description": "Book rentals with versioned pricing", "url": "/api/capable/v3", "versions": ["v3"]}


def test_the_root_leads_to_the_console(app):
    assert app.get("/", status=302).location == "http://localhost/console/"


def test_without_the_console_the_root_leads_to_the_index(make_app):
    app = make_app(console__enabled="false")
    assert app.get("/", status=302).location == "http://localhost/api/"
    assert app.get("/api/").json["links"]["console"] is None


def test_the_index_is_public_and_links_the_documentation(app, registry):
    index = app.get("/api/").json
    assert index["version"] == registry.pyramidion_version
    links = index["links"]
    assert links["console"] == "http://localhost/console/"
    for name in ("docs", "openapi", "health"):
        assert app.get(links[name].removeprefix("http://localhost")).status_int == 200
    assert set(index["plugins"]) == set(registry.pm.names)


def test_the_index_lists_what_each_plugin_declares(make_app):
    app = make_app(extra_plugins=[("capable", CapablePlugin())])
    capable = app.get("/api/").json["plugins"]["capable"]
    assert capable == {
        "version": None,
        "description": "Book rentals with versioned pricing",
        "url": "/api/capable/v3",
        "versions": ["v3"],
    }


def test_the_index_is_in_the_openapi_document(app):
    document = app.get("/api/openapi.json").json
    assert "security" not in document["paths"]["/api/"]["get"]
