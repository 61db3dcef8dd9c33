"""``pyramidion new-plugin NAME``: a new plugin distribution in the plugin skeleton.

The templates in ``template/`` are the skeleton every plugin shares (see
``docs/plugin-api.md``): a route, a model with its migration, a Huey task, a
console page, demo data and passing tests. ``package/`` becomes
``pyramidion_<name>/``; ``${name}`` (the plugin's name), ``${Name}`` (for
class names), ``${title}``, ``${dist}`` and ``${core_version}`` are
substituted, and the ``.tmpl`` suffix dropped.
"""

from __future__ import annotations

import re
import string
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ..plugins import CORE, core_version

__all__ = ["ScaffoldError", "write_plugin"]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Names the core uses for itself in URLs (/console/<name>, /api/<name>).
RESERVED = {CORE, "auth", "users", "groups", "plugins", "health", "docs", "openapi", "login", "logout", "static"}
SUFFIX = ".tmpl"


class ScaffoldError(Exception):
    """The plugin cannot be written as asked; the message says why."""


def _words(name: str) -> list[str]:
    return [word for word in name.split("_") if word]


def write_plugin(name: str, directory: Path | None = None) -> Path:
    """Write the distribution of plugin ``name`` into ``directory`` (default ``./pyramidion-<name>``).

    Returns the folder written. Refuses a name that is not a lower-case
    Python identifier, one the core uses, and a directory that is not empty.
    """
    if not NAME.match(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(
            f"{name!r} is not a plugin name: lower-case letters, digits and single underscores, starting with a letter"
        )
    if name in RESERVED:
        raise ScaffoldError(f"{name!r} is used by the core; choose another name")
    dist = "pyramidion-" + name.replace("_", "-")
    target = Path(directory) if directory is not None else Path(dist)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    words = _words(name)
    values = {
        "name": name,
        "Name": "".join(word.capitalize() for word in words),
        "title": " ".join(words).capitalize(),
        "dist": dist,
        "core_version": ".".join(core_version().split(".")[:2]),
    }
    for source, relative in _templates(files(__package__) / "template", Path()):
        parts = [f"pyramidion_{name}" if part == "package" else part for part in relative.parts]
        destination = target.joinpath(*parts).with_name(relative.name.removesuffix(SUFFIX))
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(string.Template(source.read_text()).substitute(values))
    return target


def _templates(folder: Traversable, relative: Path) -> list[tuple[Traversable, Path]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            found += _templates(entry, relative / entry.name)
        elif entry.name.endswith(SUFFIX):
            found.append((entry, relative / entry.name))
    return found
