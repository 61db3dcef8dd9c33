"""Settings: read from the ini file, overridden by ``PYRAMIDION_*`` variables.

Every setting has a dotted name (``sqlalchemy.url``, ``bar.wallet.minimum_balance``).
An environment variable named ``PYRAMIDION_`` + the name upper-cased with dots
as underscores (``PYRAMIDION_SQLALCHEMY_URL``) overrides the ini value, and an
ini value written as ``${NAME}`` must come from the environment variable NAME:
startup stops, naming it, when it is missing. That is how ``production.ini``
keeps its secrets out of the file.

Core and plugins validate their own section with a pydantic model through
:func:`section`, which writes the typed values back, so views read
``request.registry.settings["bar.wallet.minimum_balance"]`` as a ``Decimal``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

ENV_PREFIX = "PYRAMIDION_"
_ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

M = TypeVar("M", bound=BaseModel)


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says why."""


def env_name(key: str) -> str:
    """The environment variable that overrides setting ``key``: ``PYRAMIDION_SQLALCHEMY_URL``."""
    return ENV_PREFIX + key.upper().replace(".", "_").replace("-", "_")


def resolve(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Apply environment overrides and ``${VAR}`` references to raw ini settings."""
    environ = os.environ if environ is None else environ
    settings = dict(raw)
    for key, value in list(settings.items()):
        override = environ.get(env_name(key))
        if override is not None:
            settings[key] = override
            continue
        match = _ENV_REFERENCE.match(value) if isinstance(value, str) else None
        if match:
            name = match.group(1)
            if name not in environ:
                raise SettingsError(f"setting {key!r} must come from the environment variable {name}, which is not set")
            settings[key] = environ[name]
    return settings


class Section(BaseModel):
    """Base of a settings model: field ``x`` reads setting ``<prefix>.x``.

    A field whose setting name has dots gives it as alias:
    ``wallet_minimum_balance: Decimal = Field(Decimal("0"), alias="wallet.minimum_balance")``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _keys(prefix: str, model: type[BaseModel]) -> dict[str, str]:
    return {name: f"{prefix}.{field.alias or name}" for name, field in model.model_fields.items()}


def as_list(value: Any) -> list[str]:
    """Ini lists are whitespace or comma separated."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part for part in re.split(r"[\s,]+", str(value).strip()) if part]


def as_bool(value: Any) -> bool:
    """An ini boolean (``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{value!r} is not a yes/no value")


def section(settings: dict[str, Any], prefix: str, model: type[M]) -> M:
    """Validate the ``<prefix>.*`` settings with ``model`` and write them back typed.

    A key the ini file does not name is taken from its ``PYRAMIDION_*``
    variable when set, else from the model's default; either is written into
    ``settings`` as well so that everything reads one place.
    """
    keys = _keys(prefix, model)
    values = {}
    for name, key in keys.items():
        if key in settings:
            values[name] = settings[key]
        elif env_name(key) in os.environ:
            # A variable counts even for a setting the ini file does not name.
            values[name] = os.environ[env_name(key)]
    try:
        parsed = model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{keys.get(str(err['loc'][0]), prefix)}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from None
    for name, key in keys.items():
        settings[key] = getattr(parsed, name)
    return parsed
