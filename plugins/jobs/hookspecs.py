"""Hooks the jobs plugin offers other plugins (added through ``pyramidion_addhooks``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramidion.hookspecs import hookspec


@hookspec
def pyramidion_job_templates() -> dict[str, Callable[..., Any]] | list[Callable[..., Any]]:
    """Job templates the plugin adds: ``{name: task_function}``, or a list named by function.

    The same as an entry point in the group ``pyramidion.job_templates``, for a
    plugin that prefers code (or a test that registers a template for one app).
    See :mod:`pyramidion_jobs.catalogue` for what a template looks like.
    """
