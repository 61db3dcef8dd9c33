"""The core's own console pages: login, dashboard, users, groups, API keys, password."""

from __future__ import annotations

from typing import Any

from ...auth.permissions import CORE_PERMISSIONS

ADMIN = next(iter(CORE_PERMISSIONS))  # "auth.admin"


def includeme(config: Any) -> None:
    config.add_route("console.home", "/console/")
    config.add_route("console.login", "/console/login")
    config.add_route("console.logout", "/console/logout")
    config.add_route("console.users", "/console/users")
    config.add_route("console.user_new", "/console/users/new")
    config.add_route("console.user", r"/console/users/{id:\d+}")
    config.add_route("console.user_active", r"/console/users/{id:\d+}/active")
    config.add_route("console.groups", "/console/groups")
    config.add_route("console.group", r"/console/groups/{id:\d+}")
    config.add_route("console.group_delete", r"/console/groups/{id:\d+}/delete")
    config.add_route("console.api_keys", "/console/api-keys")
    config.add_route("console.api_key_revoke", r"/console/api-keys/{id:\d+}/revoke")
    config.add_route("console.password", "/console/password")
    config.add_route("console.ticket", "/console/ticket")
    config.add_console_menu("Dashboard", "console.home", order=10)
    config.add_console_menu("Users", "console.users", permission=ADMIN, order=900)
    config.add_console_menu("Groups", "console.groups", permission=ADMIN, order=910)
    config.add_console_menu("API keys", "console.api_keys", order=950)
    config.add_console_menu("Password", "console.password", order=960)
    config.scan(__name__)
