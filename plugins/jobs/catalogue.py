"""The catalogue of job templates: Nornir task functions, found through entry points and a hook.

A template is a plain Nornir task function::

    def say(task: Task, text: str, times: int = 1) -> Result:
        \"\"\"Each host says something.

        Args:
            text: what to say
            times: how often
        \"\"\"

registered by its package in the entry-point group ``pyramidion.job_templates``
(the entry-point name is the template's name) or returned by a plugin's
``pyramidion_job_templates`` hook. Its parameters after ``task`` (types from
the annotations, defaults, descriptions from the docstring's ``Args:``
section) become a pydantic model: the JSON Schema published by the API and
the check of launch variables. ``Annotated[str, Sensitive()]`` marks a
parameter whose value is never stored.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from pyramidion.api import Invalid, validation_details
from pyramidion.settings import SettingsError

ENTRY_POINT_GROUP = "pyramidion.job_templates"


class Sensitive:
    """Marks a template parameter as secret: ``password: Annotated[str, Sensitive()]``."""


def _docstring_parts(fn: Callable) -> tuple[str, dict[str, str]]:
    """The description and the ``Args:`` entries ``{name: text}`` of a Google-style docstring."""
    lines = (inspect.getdoc(fn) or "").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return "\n".join(lines).strip(), {}
    descriptions: dict[str, str] = {}
    entry_indent = None
    current = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            break  # the next section (Returns:, Raises:)
        if entry_indent is None:
            entry_indent = indent
        match = _ARG_ENTRY.match(line.strip())
        if indent == entry_indent and match:
            current = match.group("name")
            descriptions[current] = match.group("text").strip()
        elif current is not None:
            descriptions[current] = f"{descriptions[current]} {line.strip()}".strip()
    return "\n".join(lines[:start]).strip(), descriptions


_ARG_ENTRY = re.compile(r"^(?P<name>\w+)(?:\s*\([^)]*\))?:(?P<text>.*)$")


def _is_sensitive(annotation: Any) -> bool:
    return typing.get_origin(annotation) is Annotated and any(
        isinstance(meta, Sensitive) for meta in typing.get_args(annotation)[1:]
    )


def _parameter_hints(function: Callable[..., Any], parameters: list[inspect.Parameter]) -> dict[str, Any]:
    """The resolved annotations of ``parameters`` only.

    Not ``task``'s nor the return's: a template module may name Nornir's ``Task``
    and ``Result`` for type checkers only, so that building the catalogue (every
    web process, at start) needs no Nornir import (issue 17: a web worker's memory).
    """
    annotated = types.SimpleNamespace(
        __annotations__={param.name: param.annotation for param in parameters if param.annotation is not param.empty}
    )
    namespace = getattr(inspect.unwrap(function), "__globals__", {})
    return typing.get_type_hints(annotated, globalns=namespace, include_extras=True)


@dataclasses.dataclass(frozen=True)
class JobTemplate:
    """A registered template: its function, and the model of its parameters built from the signature."""

    name: str
    function: Callable[..., Any]
    description: str
    parameters: type[BaseModel]
    sensitive: frozenset[str]
    source: str

    @classmethod
    def from_function(cls, name: str, function: Callable[..., Any], source: str) -> JobTemplate:
        parameters = list(inspect.signature(function).parameters.values())[1:]  # the first is Nornir's task
        hints = _parameter_hints(function, parameters)
        description, arg_docs = _docstring_parts(function)
        fields: dict[str, Any] = {}
        sensitive = set()
        for param in parameters:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue  # **kwargs cannot be described, so they cannot be asked for
            annotation = hints.get(param.name, Any)
            extra: dict[str, Any] = {}
            if _is_sensitive(annotation):
                sensitive.add(param.name)
                extra = {"writeOnly": True, "format": "password", "x-sensitive": True}
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (
                annotation,
                Field(default, description=arg_docs.get(param.name), json_schema_extra=extra or None),
            )
        model = create_model(f"{name}_parameters", __config__=ConfigDict(extra="forbid", title=name), **fields)
        return cls(name, function, description, model, frozenset(sensitive), source)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the parameters."""
        return self.parameters.model_json_schema()

    def validate(self, variables: dict[str, Any], field_prefix: str = "variables") -> dict[str, Any]:
        """Checked and converted variables; :class:`Invalid` naming every wrong one."""
        try:
            checked = self.parameters.model_validate(variables)
        except ValidationError as exc:
            details = validation_details(exc, "body")
            for detail in details:
                detail["field"] = f"{field_prefix}.{detail['field']}"
            raise Invalid(
                f"invalid variables for template {self.name!r}: " + ", ".join(d["field"] for d in details), details
            ) from None
        return checked.model_dump(mode="json")

    def split_sensitive(self, variables: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(storable, sensitive)`` halves of checked variables."""
        storable = {k: v for k, v in variables.items() if k not in self.sensitive}
        return storable, {k: v for k, v in variables.items() if k in self.sensitive}


class TemplateCatalogue:
    """Every job template by name, from entry points and the ``pyramidion_job_templates`` hook."""

    def __init__(self, templates: dict[str, JobTemplate]) -> None:
        self._templates = dict(sorted(templates.items()))

    @classmethod
    def discover(cls, pm: Any) -> TemplateCatalogue:
        found: dict[str, JobTemplate] = {}

        def add(name: str, function: Any, source: str) -> None:
            if not callable(function):
                raise SettingsError(f"job template {name!r} from {source} is not a function")
            if name in found:
                raise SettingsError(f"job template {name!r} comes from both {found[name].source} and {source}")
            found[name] = JobTemplate.from_function(name, function, source)

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                function = ep.load()
            except Exception as exc:  # the message must name the template
                raise SettingsError(f"job template {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            add(ep.name, function, f"package {ep.dist.name if ep.dist else ep.value}")
        for impl in pm.hook.pyramidion_job_templates.get_hookimpls():
            declared = impl.function() or {}
            items = declared.items() if isinstance(declared, dict) else ((fn.__name__, fn) for fn in declared)
            for name, function in items:
                add(name, function, f"plugin {impl.plugin_name}")
        return cls(found)

    def __iter__(self) -> typing.Iterator[JobTemplate]:
        return iter(self._templates.values())

    def get(self, name: str) -> JobTemplate | None:
        return self._templates.get(name)

    def require(self, name: str, field: str = "template") -> JobTemplate:
        template = self._templates.get(name)
        if template is None:
            raise Invalid.field(field, f"no job template named {name!r}; known: {', '.join(self._templates)}")
        return template
