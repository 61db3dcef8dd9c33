"""The core's own console pages: login, dashboard, users, groups, API keys, password."""

from __future__ import annotations

from typing import Any

from ...auth.permissions import CORE_PERMISSIONS

ADMIN = next(iter(CORE_PERMISSIONS))  # "auth.admin"


def includeme(config: Any) -> None:
    config.add_route("console.home", "/console/")
    config.add_route("console.login", "/console/login")
    config.add_route("console.logout", "/console/logout")
    config.add_console_menu("Dashboard", "console.home", order=10)
    config.scan(__name__)
