"""``/api/openapi.json`` is a valid OpenAPI 3.1 document of every route; ``/api/docs`` works offline."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from pyramidion import hookimpl


def test_document_is_valid_openapi_3_1(app):
    document = app.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises, naming the problem, when the document is not valid OpenAPI


def test_document_lists_every_api_route_of_the_core_and_plugins(app, registry):
    document = app.get("/api/openapi.json").json
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    for op in registry.api_operations:
        pattern = registry.introspector.get("routes", op.route_name)["pattern"]
        path = "/" + re.sub(r"\{(\w+):[^}]*\}", r"{\1}", pattern).lstrip("/")
        assert (path, op.method) in documented, f"{op.method} {path} is missing"
    for core_path in (
        "/api/auth/token",
        "/api/auth/register",
        "/api/users/{id}",
        "/api/groups",
        "/api/plugins",
        "/api/health",
    ):
        assert core_path in document["paths"]
    for plugin in registry.pm.names:
        operations = [op for op in registry.api_operations if op.route_name.startswith(f"{plugin}.")]
        if operations:
            assert any(path.startswith(f"/api/{plugin}/") or path == f"/api/{plugin}" for path in document["paths"]), (
                plugin
            )


def test_document_declares_security_and_errors(app):
    document = app.get("/api/openapi.json").json
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    users = document["paths"]["/api/users"]["get"]
    assert users["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert {"200", "401", "403", "422"} <= set(users["responses"])
    assert {p["name"] for p in users["parameters"]} == {"limit", "offset", "ordering", "search"}
    token = document["paths"]["/api/auth/token"]["post"]
    assert "security" not in token
    assert set(token["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    assert document["paths"]["/api/users/{id}"]["get"]["parameters"][0] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    }


def test_swagger_ui_is_served_from_local_assets(app):
    page = app.get("/api/docs")
    assert page.content_type == "text/html"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    # The icon, Swagger UI's stylesheet and bundle, our start-up script (no inline script: the CSP forbids it).
    assert len(assets) == 4 and all(url.startswith("http://localhost/api/docs/") for url in assets)
    for url in assets:
        asset = app.get(url.removeprefix("http://localhost"))
        assert asset.status_int == 200 and len(asset.body) > 100
    assert "<script>" not in page.text
    assert "/api/openapi.json" in page.text
    # Swagger UI 5 reads OpenAPI 3.1; that the page really renders is tests/core/console/test_browser.py's.
    bundle = app.get(assets[2].removeprefix("http://localhost")).text
    assert "SwaggerUIBundle" in bundle and "3.1" in bundle


class ChoicesPlugin:
    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("choices.paint", "/{color:red|green}/paint")
        config.add_api_view(lambda request: {"color": request.matchdict["color"]}, "choices.paint")


def test_a_path_parameter_with_choices_lists_them(make_app, make_user, login):
    app = make_app(extra_plugins=[("choices", ChoicesPlugin())])
    params = app.get("/api/openapi.json").json["paths"]["/api/choices/{color}/paint"]["get"]["parameters"]
    assert params == [
        {"name": "color", "in": "path", "required": True, "schema": {"type": "string", "enum": ["red", "green"]}}
    ]
    headers = login(make_user("ann"))
    assert app.get("/api/choices/green/paint", headers=headers).json == {"color": "green"}
    app.get("/api/choices/blue/paint", headers=headers, status=404)
