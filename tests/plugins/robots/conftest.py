"""Fixtures for the robots tests: an operator who owns robots, a manager, robots registered through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    return make_user("manager", permissions=["robots.manage"])


@pytest.fixture
def operator(make_user: Callable[..., Any]) -> Any:
    return make_user("operator")


@pytest.fixture
def as_manager(login: Callable[[Any], dict[str, str]], manager: Any) -> dict[str, str]:
    return login(manager)


@pytest.fixture
def as_operator(login: Callable[[Any], dict[str, str]], operator: Any) -> dict[str, str]:
    return login(operator)


@pytest.fixture
def register_robot(app: Any, as_manager: dict[str, str], operator: Any) -> Callable[..., dict[str, Any]]:
    """Register a robot owned by the operator through the API; its JSON includes the secret."""

    def register(serial: str, owner_id: int | None = None, **fields: Any) -> dict[str, Any]:
        body = {"serial": serial, "owner_id": owner_id or operator.id, **fields}
        return app.post_json("/api/robots", body, headers=as_manager, status=201).json

    return register


@pytest.fixture
def join_token(app: Any) -> Callable[[dict[str, Any]], str]:
    """A fresh join token for a registered robot (its JSON from ``register_robot``)."""

    def token(robot: dict[str, Any]) -> str:
        return app.post_json("/api/robots/token", {"serial": robot["serial"], "secret": robot["secret"]}).json["token"]

    return token
