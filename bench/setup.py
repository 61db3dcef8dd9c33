"""Preparing a benchmark database: migrations, users and tokens through the public API."""

from __future__ import annotations

import requests

from pyramidion import make_config, migrations


def migrated(settings: dict[str, str]) -> None:
    migrations.upgrade(make_config(dict(settings)).registry)


def user_token(base_url: str, username: str = "bench", password: str = "bench-password") -> str:
    requests.post(
        f"{base_url}/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": password},
        timeout=10,
    )
    response = requests.post(
        f"{base_url}/api/auth/token", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    return response.json()["access"]
