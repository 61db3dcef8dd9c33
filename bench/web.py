"""Figure 1: the HTTP API against the ceiling of a bare Pyramid app.

An authenticated list of 10 tasks with their users (``GET /api/tasks?limit=10``)
and a task detail with 20 comments, at 16 connections for 10 s after a
warm-up, on SQLite and on PostgreSQL. The ceiling is a bare Pyramid app
answering a small JSON object on the same WSGI server, measured in the same
run. Target: the list at >= 50% of the ceiling's requests/s.

It also picks the production server: the bare app and the list run on
waitress, gunicorn sync and gunicorn gthread (2 workers each), SQLite.
Figure 6 (memory) comes from the web process and a worker after the runs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import requests

from .common import BIN, ROOT, Server, app_settings, free_port, scratch_database, write_ini, wrk, _vm_hwm_kib
from .setup import migrated, user_token

TARGET = 0.50
SERVERS = ("waitress", "gunicorn-sync", "gunicorn-gthread")


def _seed(base: str, headers: dict[str, str]) -> int:
    """30 tasks with two performers each, one of them with 20 comments; returns that task's id."""
    performer_ids = []
    for name in ("pia", "per"):
        requests.post(f"{base}/api/auth/register", json={"username": name, "email": f"{name}@example.com", "password": "password123"})
        token = requests.post(f"{base}/api/auth/token", json={"username": name, "password": "password123"}).json()["access"]
        performer_ids.append(requests.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["id"])
    due = dt.date.today() + dt.timedelta(days=30)
    task_id = 0
    for number in range(30):
        response = requests.post(
            f"{base}/api/tasks",
            json={"name": f"task {number}", "specification": "benchmark", "due_date": (due + dt.timedelta(days=number)).isoformat(), "performer_ids": performer_ids},
            headers=headers,
        )
        response.raise_for_status()
        task_id = response.json()["id"]
    for number in range(20):
        requests.post(f"{base}/api/tasks/{task_id}/comments", json={"text": f"comment {number}"}, headers=headers).raise_for_status()
    return task_id


def _line(name: str, load, ceiling=None) -> str:
    text = f"{load.requests_per_second:.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms"
    if load.errors:
        text += f", {load.errors} ERRORS"
    if ceiling is not None:
        ratio = load.requests_per_second / ceiling.requests_per_second
        text += f" = {ratio:.0%} of the ceiling (target >= {TARGET:.0%}) {'ok' if ratio >= TARGET else 'MISSED'}"
    return f"{name}: {text}"


def compare_servers(seconds: int) -> tuple[str, list[str]]:
    """The server whose list endpoint serves most requests/s, with the figures."""
    lines, best = [], ("", 0.0)
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = app_settings(url, **{"pyramidion.plugins.enabled": "tasks"})
        migrated(settings)
        app_ini = write_ini(folder, settings)
        bare_dir = folder / "bare"
        bare_dir.mkdir()
        bare_ini = write_ini(bare_dir, {}, factory="call:bench.bare:main")
        for kind in SERVERS:
            with Server(kind, bare_ini, free_port()) as bare:
                ceiling = wrk(bare.url + "/", seconds=seconds)
            with Server(kind, app_ini, free_port()) as server:
                headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                if kind == SERVERS[0]:
                    _seed(server.url, headers)
                listed = wrk(server.url + "/api/tasks?limit=10", headers=headers, seconds=seconds)
            lines.append(_line(f"server {kind}: bare ceiling", ceiling))
            lines.append(_line(f"server {kind}: task list", listed, ceiling))
            if listed.requests_per_second > best[1]:
                best = (kind, listed.requests_per_second)
    return best[0], lines


def run(seconds: int = 10, server_kind: str | None = None) -> list[str]:
    lines: list[str] = []
    if server_kind is None:
        server_kind, lines = compare_servers(seconds)
        lines.append(f"server: {server_kind} serves the task list fastest")
    for database in ("sqlite", "postgresql"):
        with scratch_database(database) as url, tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            settings = app_settings(
                url, **{"pyramidion.plugins.enabled": "tasks", "huey.url": f"sqlite:///{folder}/huey.sqlite",
                        "tasks.smtp.port": "1", "tasks.notify.retries": "0"}
            )
            migrated(settings)
            ini = write_ini(folder, settings)
            bare_dir = folder / "bare"
            bare_dir.mkdir()
            bare_ini = write_ini(bare_dir, {}, factory="call:bench.bare:main")
            with Server(server_kind, bare_ini, free_port()) as bare:
                ceiling = wrk(bare.url + "/", seconds=seconds)
            worker = subprocess.Popen([str(BIN / "pyramidion"), "worker", str(ini)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                with Server(server_kind, ini, free_port()) as server:
                    headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                    task_id = _seed(server.url, headers)
                    assert len(requests.get(server.url + "/api/tasks?limit=10", headers=headers).json()["results"]) == 10
                    listed = wrk(server.url + "/api/tasks?limit=10", headers=headers, seconds=seconds)
                    detail = wrk(f"{server.url}/api/tasks/{task_id}", headers=headers, seconds=seconds)
                    web_mib = server.peak_memory_mib()
                worker_mib = _vm_hwm_kib(worker.pid) / 1024
            finally:
                worker.terminate()
                worker.wait(timeout=15)
            lines.append(_line(f"http {database} ({server_kind}): bare ceiling", ceiling))
            lines.append(_line(f"http {database} ({server_kind}): GET /api/tasks?limit=10", listed, ceiling))
            lines.append(_line(f"http {database} ({server_kind}): GET /api/tasks/<id> with 20 comments", detail))
            lines.append(f"memory {database}: web process peak {web_mib:.0f} MiB, worker peak {worker_mib:.0f} MiB")
    return lines
