"""Helpers for ``pyramidion`` subcommands, the core's and the plugins'.

A plugin adds subcommands through the ``pyramidion_commands`` hook::

    @hookimpl
    def pyramidion_commands(subparsers):
        report = subparsers.add_parser("bar-report", help="...")
        ini_argument(report)
        report.set_defaults(func=run_report)

    def run_report(args):
        registry = load(args.ini)
        total = in_transaction(registry, lambda db: services.daily_total(db))
        print(total)

Raise :class:`CommandError` for anything the user got wrong: the command
prints its message on one line and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pyramid.paster import get_appsettings, setup_logging

from .db import in_request_transaction

__all__ = ["DEFAULT_INI", "CommandError", "in_transaction", "ini_argument", "load"]

DEFAULT_INI = "development.ini"
T = TypeVar("T")


class CommandError(Exception):
    """A command cannot do what was asked; the message says why."""


def ini_argument(parser: argparse.ArgumentParser) -> None:
    """Add the positional ``ini`` argument (default ``development.ini``) every command takes."""
    parser.add_argument("ini", nargs="?", default=DEFAULT_INI, help=f"the ini file (default {DEFAULT_INI})")


def load(ini: str) -> Any:
    """The configured Pyramid registry of the app ``ini`` describes (logging set up from it too)."""
    from . import make_config  # the app factory imports plugins, which may import this module

    path = Path(ini)
    if not path.is_file():
        raise CommandError(f"no such ini file: {ini}")
    setup_logging(str(path))
    settings = get_appsettings(str(path), name="main")
    return make_config(dict(settings)).registry


def in_transaction(registry: Any, work: Callable[[Any], T]) -> T:
    """Run ``work(db)`` in one transaction, committed when it returns, rolled back when it raises.

    ``db`` is a session like a request's ``request.db``; tasks enqueued and
    events published inside are sent after the commit, as from a request.
    """
    return in_request_transaction(registry, lambda request: work(request.db))()
