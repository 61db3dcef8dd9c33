"""The URI scheme and the roles of the realm.

Every URI of the platform starts with ``pyramidion.<plugin>.``. A URI that
belongs to one principal names it right after the plugin:
``pyramidion.<plugin>.<role>.<id>.<what>`` (``pyramidion.demo.user.12.pong``,
``pyramidion.robots.robot.7.command``). Its owner may subscribe and publish
on it; nobody else but the backend may, unless a plugin's authorizer says so.
"""

from __future__ import annotations

from typing import Any

BACKEND_ROLE = "backend"  # the backend session: everything
PUBLISHER_ROLE = "publisher"  # the HTTP bridge of web and worker processes: publish on pyramidion.*
USER_ROLE = "user"  # people, with their JWT access token as ticket

AUTHENTICATE = "pyramidion.realtime.authenticate"  # the router's dynamic authenticator
AUTHORIZE = "pyramidion.realtime.authorize"  # the router's dynamic authorizer of client roles


def owned_uri(plugin: str, role: str, principal_id: Any, *rest: str) -> str:
    """A URI that belongs to one principal: ``pyramidion.<plugin>.<role>.<id>.<rest>``."""
    return ".".join(["pyramidion", plugin, role, str(principal_id), *rest])


def user_topic(plugin: str, user_id: int, *rest: str) -> str:
    """A topic only this user may subscribe to: ``pyramidion.<plugin>.user.<id>.<rest>``."""
    return owned_uri(plugin, USER_ROLE, user_id, *rest)


def owner_of(uri: str) -> tuple[str, str] | None:
    """``(role, id)`` of the principal a URI belongs to, or None."""
    parts = uri.split(".")
    if len(parts) < 4 or parts[0] != "pyramidion" or not all(parts):
        return None
    return parts[2], parts[3]
