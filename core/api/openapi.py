"""``GET /api/openapi.json`` (OpenAPI 3.1) and ``GET /api/docs`` (Swagger UI 5).

The document is built from the API views of the core and every loaded plugin
(:mod:`pyramidion.api.views` records them), once, on first request.

Swagger UI is vendored (``swagger-ui-dist`` from npm, see
``core/console/static/vendor/VENDORED.md``) and served by the app, whether
or not the console is enabled; its start-up script is a static file of ours,
since HTML pages allow no inline script.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from ..request import Request
from .listing import Listing

_PARAM = re.compile(r"\{(\w+)(?::([^}]*))?\}")
MAX_ID = 2**31 - 1  # an Integer primary key; larger ids are a 422 (see errors.out_of_range)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message", "details"],
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {}},
            },
        }
    },
}

REASONS = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large (api.max_body_size, or the operation's own limit)",
    422: "Invalid input",
}


_CHOICES = re.compile(r"^[\w.-]+(\|[\w.-]+)+$")


def _parameter_schema(regex: str) -> dict[str, Any]:
    """What a route pattern's ``{name:regex}`` admits, as JSON Schema."""
    if regex in (r"\d+", "[0-9]+"):
        return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    if _CHOICES.match(regex):  # {version:v1|v2|v3}
        return {"type": "string", "enum": regex.split("|")}
    return {"type": "string"}


def _path(pattern: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for name, regex in _PARAM.findall(pattern):
        schema = _parameter_schema(regex)
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", pattern)
    return "/" + path.lstrip("/"), params  # prefixed route patterns lose their leading slash


def _error(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or REASONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


class DocumentSchema(GenerateJsonSchema):
    """The document's JSON Schema, saying of a decimal all a client needs to send one that is accepted.

    pydantic documents a decimal input as any number or any string; here the
    string gets the pattern of its digits and places, the number the bounds
    and the step they imply, and a decimal with a lower or upper bound (a
    positive amount) is a number only, as no pattern can say "above zero".
    """

    def get_decimal_pattern(self, schema: Any) -> str | None:
        return self.build_decimal_pattern(schema)

    def encode_default(self, dft: Any) -> Any:
        # An input decimal's default is documented as the number it is, so it
        # fits the number a bounded decimal is documented as.
        if self.mode == "validation" and isinstance(dft, Decimal) and dft.is_finite():
            return float(dft)
        return super().encode_default(dft)

    def int_schema(self, schema: Any) -> dict[str, Any]:
        json_schema = super().int_schema(schema)
        if self.mode == "validation":
            # pydantic refuses integers beyond 64 bits: say so.
            if "minimum" not in json_schema and "exclusiveMinimum" not in json_schema:
                json_schema["minimum"] = -(2**63)
            if "maximum" not in json_schema and "exclusiveMaximum" not in json_schema:
                json_schema["maximum"] = 2**63 - 1
        return json_schema

    def decimal_schema(self, schema: Any) -> dict[str, Any]:
        json_schema = super().decimal_schema(schema)
        if self.mode != "validation" or "anyOf" not in json_schema:
            return json_schema
        number, string = json_schema["anyOf"]
        digits, places = schema.get("max_digits"), schema.get("decimal_places")
        if digits is not None:
            bound = 10.0 ** (digits - (places or 0))
            number.setdefault("exclusiveMaximum", bound)
            number.setdefault("exclusiveMinimum", -bound)
        if places is not None:
            number.setdefault("multipleOf", 10.0**-places)
        if any(schema.get(key) is not None for key in ("gt", "ge", "lt", "le")):
            return {"anyOf": [number]}
        return {"anyOf": [number, string]}


def build_document(registry: Any) -> dict[str, Any]:
    operations = registry.api_operations
    inputs: list[tuple[tuple[int, str], JsonSchemaMode, TypeAdapter[Any]]] = []
    for index, op in enumerate(operations):
        if op.body is not None:
            inputs.append(((index, "body"), "validation", TypeAdapter(op.body)))
        if op.query is not None and not isinstance(op.query, Listing):
            inputs.append(((index, "query"), "validation", TypeAdapter(op.query)))
        if op.response is not None:
            inputs.append(((index, "response"), "serialization", TypeAdapter(op.response)))
    generated, definitions = TypeAdapter.json_schemas(
        inputs, ref_template="#/components/schemas/{model}", schema_generator=DocumentSchema
    )
    definitions = dict(definitions.get("$defs", {}))
    definitions["Error"] = ERROR_SCHEMA
    schemas = {key: schema for (key, _mode), schema in generated.items()}

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        return definitions[ref.rsplit("/", 1)[-1]] if ref else schema

    paths: dict[str, dict[str, Any]] = {}
    for index, op in enumerate(operations):
        route = registry.introspector.get("routes", op.route_name)
        if route is None:
            continue
        path, params = _path(route["pattern"])
        protected = op.permission not in (None, NO_PERMISSION_REQUIRED)
        operation: dict[str, Any] = {
            "operationId": f"{op.route_name}.{op.method.lower()}",
            "tags": op.tags,
            "summary": op.summary,
            "responses": {},
        }
        if op.description:
            operation["description"] = op.description
        parameters = list(params)
        if isinstance(op.query, Listing):
            parameters += op.query.openapi_parameters()
        elif op.query is not None:
            query_schema = resolved(schemas[(index, "query")])
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append(
                    {"name": name, "in": "query", "required": name in query_schema.get("required", []), "schema": prop}
                )
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            body_schema = schemas[(index, "body")]
            content = {"application/json": {"schema": body_schema}}
            if op.form:
                content["application/x-www-form-urlencoded"] = {"schema": body_schema}
            operation["requestBody"] = {"required": True, "content": content}
            operation["responses"]["400"] = _error(400)
        if op.upload is not None:
            file_field = {"type": "string", "contentMediaType": "application/octet-stream"}
            upload_schema = {"type": "object", "required": [op.upload], "properties": {op.upload: file_field}}
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": upload_schema}}}
        if op.body is not None or op.upload is not None or op.method in ("POST", "PUT", "PATCH"):
            # Any body may be malformed or too large (pyramidion.api.protection), whatever the view reads.
            operation["responses"]["400"] = _error(400)
            operation["responses"]["413"] = _error(413)
        if op.body is not None or op.query is not None or op.upload is not None:
            operation["responses"]["422"] = _error(422)
        if protected:
            operation["security"] = [{"bearerAuth": []}, {"apiKey": []}]
            operation["responses"]["401"] = _error(401)
            operation["responses"]["403"] = _error(403)
        if params:
            operation["responses"]["404"] = _error(404)
            # A path value beyond what the database stores (an id of 30 digits) is a 422 (errors.out_of_range).
            operation["responses"]["422"] = _error(422)
        for status, description in op.responses.items():
            operation["responses"][str(status)] = _error(status, description)
        success: dict[str, Any] = {"description": "Success"}
        if op.status != 204:
            if op.content_type:
                types = [op.content_type] if isinstance(op.content_type, str) else op.content_type
                success["content"] = {kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in types}
            elif op.response is not None:
                success["content"] = {"application/json": {"schema": schemas[(index, "response")]}}
            else:
                success["content"] = {"application/json": {"schema": {}}}
        if op.method == "GET" and op.status == 200 and not op.content_type:
            # Every JSON GET is conditional (pyramidion.api.render.answer_conditionally).
            success["headers"] = {
                "ETag": {"description": "A weak tag of this body as this caller gets it", "schema": {"type": "string"}}
            }
            operation["responses"]["304"] = {
                "description": "Not modified: the If-None-Match header names the current ETag"
            }
        operation["responses"][str(op.status)] = success
        paths.setdefault(path, {})[op.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": registry.settings.get("pyramidion.title", "Pyramidion"),
            "version": registry.pyramidion_version,
            "description": "Plugins loaded: " + ", ".join(registry.pm.names),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(definitions.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def openapi_view(request: Request) -> Any:
    registry = request.registry
    if getattr(registry, "openapi_document", None) is None:
        registry.openapi_document = build_document(registry)
    return registry.openapi_document


SWAGGER_UI = "pyramidion:console/static/vendor/swagger-ui"
INITIALIZER = "pyramidion:api/static/swagger-initializer.js"

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API documentation</title>
<link rel="icon" href="{icon}" type="image/svg+xml">
<link rel="stylesheet" href="{css}">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{spec}"></main>
<script src="{bundle}"></script>
<script src="{initializer}"></script>
</body>
</html>
"""


def docs_view(request: Request) -> Response:
    page = SWAGGER_PAGE.format(
        title=escape(request.registry.settings.get("pyramidion.title", "Pyramidion")),
        icon=request.static_url("pyramidion:api/static/favicon.svg"),
        css=request.static_url(f"{SWAGGER_UI}/swagger-ui.css"),
        bundle=request.static_url(f"{SWAGGER_UI}/swagger-ui-bundle.js"),
        initializer=request.static_url(INITIALIZER),
        spec=request.route_url("api.openapi"),
    )
    return Response(page, content_type="text/html")


def includeme(config: Any) -> None:
    config.add_static_view("api/docs/static", SWAGGER_UI, cache_max_age=86400)
    config.add_static_view("api/docs/assets", "pyramidion:api/static", cache_max_age=3600)
    config.add_route("api.openapi", "/api/openapi.json")
    config.add_route("api.docs", "/api/docs")
    config.add_view(openapi_view, route_name="api.openapi", renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_view(docs_view, route_name="api.docs", permission=NO_PERMISSION_REQUIRED)
