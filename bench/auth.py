"""Figure 2: the cost of authentication.

``GET /api/auth/me`` with a JWT against the anonymous ``GET /api/health`` on
the same server: the JWT path should keep at least 80% of its requests/s.

Measured on the core alone, where ``/api/auth/me`` is the identity (token
checked, user and session looked up) and the caller's groups and
permissions; and again with every installed plugin, each of which may add
to ``/api/auth/me`` (``pyramidion_me``): that line shows what the plugins'
additions cost, and has no target.
"""

from __future__ import annotations

import tempfile
from importlib.metadata import entry_points
from pathlib import Path

import requests

from .common import PRODUCTION, Server, app_settings, free_port, scratch_database, write_ini
from .setup import migrated, user_token

TARGET = 0.80


def _measure(server_kind: str, seconds: int, plugins: str, **settings: str) -> list[str]:
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
        app = app_settings(url, **settings)
        migrated(app)
        with Server(server_kind, write_ini(Path(tmp), app), free_port()) as server:
            headers = {"Authorization": f"Bearer {user_token(server.url)}"}
            assert requests.get(server.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
            anonymous = server.load("/api/health", seconds=seconds)
            jwt = server.load("/api/auth/me", headers, seconds)
            memory = server.peak_memory_mib()
    ratio = jwt.requests_per_second / anonymous.requests_per_second
    verdict = (
        f"(target >= {TARGET:.0%}) {'ok' if ratio >= TARGET else 'MISSED'}"
        if plugins == "core alone"
        else "(no target)"
    )
    errors = f", {jwt.errors + anonymous.errors} ERRORS" if jwt.errors or anonymous.errors else ""
    return [
        f"auth {plugins} ({server_kind}): /api/auth/me with JWT {jwt.requests_per_second:.0f} req/s "
        f"(p50 {jwt.p50_ms:.1f} ms, p99 {jwt.p99_ms:.1f} ms, server CPU {jwt.server_cpu_ms:.2f} ms/request) "
        f"vs anonymous /api/health {anonymous.requests_per_second:.0f} req/s "
        f"(server CPU {anonymous.server_cpu_ms:.2f} ms/request): {ratio:.0%} {verdict}{errors}",
        f"memory after auth {plugins}: web process peak {memory:.0f} MiB",
    ]


def run(server_kind: str = PRODUCTION, seconds: int = 10) -> list[str]:
    every_plugin = " ".join(sorted(ep.name for ep in entry_points(group="pyramidion.plugins")))
    return [
        *_measure(server_kind, seconds, "core alone", **{"pyramidion.plugins.disabled": every_plugin}),
        *_measure(server_kind, seconds, "every plugin"),
    ]
