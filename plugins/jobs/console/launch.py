"""The launch form of a template, generated from the JSON Schema of its parameters.

Each parameter becomes an input of its type (text, number, checkbox, a
select for a choice, a comma-separated list, a password input for a
sensitive one), with its default, whether it is required and its
description. The form is read with the console's :class:`Form` and checked
by the API's own schema and service (:class:`LaunchIn`, :func:`services.launch`),
whose messages are put back beside the fields they name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from pyramidion.api import APIError, In, Invalid, validation_details

from ..catalogue import JobTemplate
from ..schemas import LaunchIn, PresetIn

# The inputs every launch form has besides the template's parameters.
OPTION_FIELDS = ("inventory_id", "name", "hosts", "scheduled_at", "preset_name")
# A preset's name is the form's preset_name (its name is the run's).
PRESET_FIELDS = {"name": "preset_name"}


@dataclasses.dataclass(frozen=True)
class ParameterInput:
    """How one template parameter is asked for."""

    name: str
    label: str
    kind: str  # text, password, integer, number, checkbox, choice, list, json
    required: bool
    default: Any
    help: str | None
    choices: tuple[tuple[str, str], ...] = ()


def _resolved(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """The property's own schema: ``$ref`` followed, an optional (``anyOf`` with null) unwrapped."""
    if "$ref" in prop:
        prop = {**schema.get("$defs", {}).get(prop["$ref"].rsplit("/", 1)[-1], {}), **prop}
    options = [p for p in prop.get("anyOf", ()) if p.get("type") != "null"]
    if len(options) == 1:
        prop = {**_resolved(schema, options[0]), **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


def _kind(prop: dict[str, Any]) -> str:
    if prop.get("writeOnly") or prop.get("format") == "password":
        return "password"
    if "enum" in prop:
        return "choice"
    return {"boolean": "checkbox", "integer": "integer", "number": "number", "array": "list", "object": "json"}.get(
        prop.get("type", ""), "text"
    )


def parameter_inputs(template: JobTemplate) -> list[ParameterInput]:
    """The inputs of ``template``'s parameters, in the order of its signature."""
    schema = template.schema()
    required = set(schema.get("required", ()))
    inputs = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolved(schema, raw)
        kind = _kind(prop)
        default = prop.get("default")
        if kind == "list" and isinstance(default, list):
            default = ", ".join(map(str, default))
        elif kind == "json" and default is not None:
            default = json.dumps(default)
        help_text = prop.get("description")
        if kind == "list":
            help_text = f"{help_text}; separate values with commas" if help_text else "Separate values with commas"
        inputs.append(
            ParameterInput(
                name=name,
                label=prop.get("title") or name,
                kind=kind,
                required=name in required,
                default=default,
                help=help_text,
                choices=tuple((str(v), str(v)) for v in prop.get("enum", ())),
            )
        )
    return inputs


def colliding_parameters(template: JobTemplate) -> list[str]:
    """Parameters named like one of the form's own inputs: such a template is launched through the API."""
    return sorted(set(template.parameters.model_fields) & set(OPTION_FIELDS))


def form_schema(template: JobTemplate) -> type[BaseModel]:
    """The model the console's :class:`Form` reads the launch form by: options and parameters.

    Used only to read the posted values (checkboxes, lists); checking them is
    left to the API's schema and service.
    """
    fields: dict[str, Any] = {
        "inventory_id": (str, ...),
        "name": (str | None, None),
        "hosts": (list[str], []),
        "scheduled_at": (str | None, None),
        "preset_name": (str | None, None),
    }
    for name, field in template.parameters.model_fields.items():
        if name not in fields:
            fields[name] = (field.annotation, field)
    return create_model(f"launch_{template.name}", __base__=In, **fields)


def _api_field(field: str) -> str:
    """The form's input named by an API error's ``field`` (``variables.text`` -> ``text``)."""
    if field.startswith("variables."):
        return field.split(".")[1]
    if field.startswith("filters"):
        return "hosts"
    return field.split(".")[0]


def for_the_form(exc: Exception, fields: dict[str, str] | None = None) -> Exception:
    """``exc`` (a pydantic error or the API's) with its fields named as the form's inputs.

    ``fields`` renames more (``{"name": "preset_name"}`` for the preset a form saves).
    """
    if isinstance(exc, ValidationError):
        details = validation_details(exc)
        exc = Invalid("invalid input: " + ", ".join(d["field"] for d in details), details)
    if not isinstance(exc, APIError) or not exc.details:
        return exc
    renames = fields or {}
    details = []
    for detail in exc.details:
        if isinstance(detail, dict) and detail.get("field"):
            field = _api_field(str(detail["field"]))
            detail = {**detail, "field": renames.get(field, field)}
        details.append(detail)
    return type(exc)(exc.message, details, status=exc.status)


def launch_body(template: JobTemplate, values: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of ``POST /api/jobs/runs`` the form's values stand for.

    JSON parameters are parsed here; one that is not JSON is left as text,
    for the template's schema to refuse beside its input.
    """
    variables = {}
    for parameter in parameter_inputs(template):
        if parameter.name not in values:
            continue
        value = values[parameter.name]
        if parameter.kind == "json" and isinstance(value, str):
            with contextlib.suppress(ValueError):  # not JSON: the schema refuses the text
                value = json.loads(value)
        variables[parameter.name] = value
    body: dict[str, Any] = {"template": template.name, "variables": variables}
    for field in ("inventory_id", "name"):
        if values.get(field) is not None:
            body[field] = values[field]
    if values.get("hosts"):
        body["filters"] = {"hosts": values["hosts"]}
    if values.get("scheduled_at"):
        body["scheduled_at"] = _utc(values["scheduled_at"])
    return body


def _utc(local: str) -> str:
    # A datetime-local input has no zone; the form says it is UTC.
    try:
        moment = dt.datetime.fromisoformat(local)
    except ValueError:
        return local  # LaunchIn names the field
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def checked_launch(template: JobTemplate, values: dict[str, Any]) -> LaunchIn:
    """The API's launch body from the form's values; :class:`Invalid` naming the form's inputs.

    The body and the template's variables are checked together (by the
    API's :class:`LaunchIn` and the template's own schema), so every wrong
    field is named at once.
    """
    body = launch_body(template, values)
    details: list[dict[str, Any]] = []
    try:
        launch = LaunchIn.model_validate(body)
    except ValidationError as exc:
        details += validation_details(exc)
    try:
        template.validate(body["variables"])
    except Invalid as exc:
        details += exc.details
    if details:
        raise for_the_form(Invalid("invalid input: " + ", ".join(d["field"] for d in details), details))
    return launch


def checked_preset(template: JobTemplate, values: dict[str, Any]) -> PresetIn:
    """The API's preset body from the form's values (named by ``preset_name``; no run name, no time).

    :class:`Invalid` naming the form's inputs; the template's variables are
    checked by the service, as for the API.
    """
    fields = {k: v for k, v in launch_body(template, values).items() if k not in ("name", "scheduled_at")}
    if values.get("preset_name") is not None:
        fields["name"] = values["preset_name"]
    try:
        return PresetIn.model_validate(fields)
    except ValidationError as exc:
        raise for_the_form(exc, PRESET_FIELDS) from None
