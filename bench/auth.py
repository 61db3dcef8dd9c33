"""Figure 2: the cost of authentication.

``GET /api/auth/me`` with a JWT against the anonymous ``GET /api/health`` on
the same server: the JWT path should keep at least 80% of its requests/s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests

from .common import PRODUCTION, Server, app_settings, free_port, scratch_database, write_ini, wrk
from .setup import migrated, user_token

TARGET = 0.80


def run(server_kind: str = PRODUCTION, seconds: int = 10) -> list[str]:
    lines = []
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
        settings = app_settings(url)
        migrated(settings)
        ini = write_ini(Path(tmp), settings)
        with Server(server_kind, ini, free_port()) as server:
            headers = {"Authorization": f"Bearer {user_token(server.url)}"}
            assert requests.get(server.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
            anonymous = wrk(server.url + "/api/health", seconds=seconds)
            jwt = wrk(server.url + "/api/auth/me", headers=headers, seconds=seconds)
            ratio = jwt.requests_per_second / anonymous.requests_per_second
            verdict = "ok" if ratio >= TARGET else "MISSED"
            errors = f", {jwt.errors + anonymous.errors} ERRORS" if jwt.errors or anonymous.errors else ""
            lines.append(
                f"auth ({server_kind}): /api/auth/me with JWT {jwt.requests_per_second:.0f} req/s (p50 {jwt.p50_ms:.1f} ms, "
                f"p99 {jwt.p99_ms:.1f} ms) vs anonymous /api/health {anonymous.requests_per_second:.0f} req/s: "
                f"{ratio:.0%} (target >= {TARGET:.0%}) {verdict}{errors}"
            )
            lines.append(f"memory after auth: web process peak {server.peak_memory_mib():.0f} MiB")
    return lines
