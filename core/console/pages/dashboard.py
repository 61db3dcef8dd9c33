"""The dashboard: is the platform well (database and its migrations, queue and its workers, router), and what is loaded."""

from __future__ import annotations

from typing import Any

from ...plugins import describe
from ...request import Request
from ..framework import console_view


@console_view("console.home", template="pyramidion:console/templates/dashboard.jinja2")
def dashboard(request: Request) -> dict[str, Any]:
    report = request.registry.health.report()
    return {"checks": report.checks, "health": report, "plugins": describe(request.registry.pm)}
