"""Figure 2: the cost of authentication, and the web worker's memory with every plugin.

On SQLite and on PostgreSQL: ``GET /api/auth/me`` with a JWT against the
anonymous ``GET /api/health`` on the same server, and health against the bare
ceiling (``bench/bare.py``) on that server, measured just before. Twice:

* on the core alone, where ``/api/auth/me`` is the identity (token checked,
  user and session looked up) and the caller's groups and permissions, next to
  the FastAPI peer's ``/api/auth/me`` (the same answer) and ``/api/health``
  (a database ping only: Pyramidion's also reads the queue, the worker
  heartbeat and the router);
* with every installed plugin, each of which may add to ``/api/auth/me``
  (``pyramidion_me``) and to what a worker holds in memory.

Targets (issue 17), with every plugin: ``/api/auth/me`` at least 80% of
``/api/health``'s requests/s; ``/api/health`` at most twice the ceiling's
server CPU per request; the largest web worker's peak resident memory
(VmHWM) at most 70 MiB.
"""

from __future__ import annotations

import tempfile
from importlib.metadata import entry_points
from pathlib import Path

import requests

from .common import (
    PRODUCTION,
    Load,
    Peer,
    Served,
    Server,
    app_settings,
    cpu_ratio,
    figure,
    free_port,
    requests_ratio,
    scratch_database,
    server_label,
    verdict,
    versus,
    write_ini,
)
from .setup import migrated, user_token
from .web import bare_ini

ME_SHARE = 0.80  # of /api/health's requests/s
HEALTH_CPU = 2  # times the ceiling's CPU per request, at most
WORKER_MIB = 70


def _measure(
    database: str, server_kind: str, seconds: int, bare: Served, plugins: str, peer: list[Load], **settings: str
) -> list[str]:
    """One server's figures; the peer's health and ``/me`` are measured into ``peer`` if it is empty (on the
    core alone, where ``/me`` answers as the peer's does) and compared with afterwards."""
    with scratch_database(database) as url, tempfile.TemporaryDirectory() as tmp:
        app = app_settings(url, **settings)
        migrated(app)
        folder = Path(tmp)
        with Server(server_kind, write_ini(folder, app), free_port()) as server:
            headers = {"Authorization": f"Bearer {user_token(server.url)}"}
            assert requests.get(server.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
            ceiling = bare.load("/", seconds=seconds)  # next to health: the machine's load drifts over a run
            health = server.load("/api/health", seconds=seconds)
            me = server.load("/api/auth/me", headers, seconds)
            memory, worker_mib = server.memory(), server.largest_worker_mib()
            peer_lines = []
            if not peer:
                with Peer(url, folder, free_port()) as served:
                    peer += [served.load("/api/health", seconds=seconds), served.load("/api/auth/me", headers, seconds)]
                peer_lines = [
                    f"auth {database}, FastAPI peer: GET /api/health (database ping only): {figure(peer[0])}; "
                    f"{versus(peer[0], ceiling, 'ceiling')}",
                    f"auth {database}, FastAPI peer: GET /api/auth/me: {figure(peer[1])}; {versus(peer[1], ceiling, 'ceiling')}",
                ]
    name = f"auth {database} {plugins}"
    targeted = plugins == "every plugin"
    health_cpu = cpu_ratio(health, ceiling)
    me_share = requests_ratio(me, health)
    health_line = f"{name}: GET /api/health: {figure(health)}; {versus(health, ceiling, 'ceiling')}"
    me_line = f"{name}: GET /api/auth/me: {figure(me)}; {me_share:.0%} of /api/health's req/s at {cpu_ratio(me, health):.2f}x its CPU/request"
    if targeted:
        health_line += f" {verdict(health_cpu <= HEALTH_CPU, f'CPU <= {HEALTH_CPU}x')}"
        me_line += f" {verdict(me_share >= ME_SHARE, f'>= {ME_SHARE:.0%}')}"
    health_line += f"; {versus(health, peer[0], 'peer')}"
    me_line += f"; {versus(me, peer[1], 'peer')}"
    memory_line = f"memory after {name}: {memory}"
    if targeted:
        memory_line += f" {verdict(worker_mib <= WORKER_MIB, f'worker <= {WORKER_MIB} MiB')}"
    return [
        f"{name}: bare ceiling ({server_label(server_kind)}): {figure(ceiling)}",
        health_line,
        me_line,
        *peer_lines,
        memory_line,
    ]


def run(server_kind: str = PRODUCTION, seconds: int = 10) -> list[str]:
    every_plugin = " ".join(sorted(ep.name for ep in entry_points(group="pyramidion.plugins")))
    lines = []
    with tempfile.TemporaryDirectory() as tmp, Server(server_kind, bare_ini(Path(tmp)), free_port()) as bare:
        for database in ("sqlite", "postgresql"):
            peer: list[Load] = []  # its health and /me, measured with the core alone
            core = {"pyramidion.plugins.disabled": every_plugin}
            lines += _measure(database, server_kind, seconds, bare, "core alone", peer, **core)
            lines += _measure(database, server_kind, seconds, bare, "every plugin", peer)
    return lines
