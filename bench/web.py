"""Figure 1: the HTTP API against the ceiling of a bare Pyramid app, and the choice of server.

An authenticated list of 10 tasks with their users (``GET /api/tasks?limit=10``)
and a task detail with 20 comments, at 16 connections for ``seconds`` after a
warm-up, on SQLite and on PostgreSQL. The ceiling is a bare Pyramid app
answering a small JSON object on the same WSGI server, measured in the same
run. Target: the list at >= 50% of the ceiling's requests/s. The web process
and a queue worker (which sends the seeding's notifications) report their
peak memory afterwards (figure 6).

``servers`` runs the bare app and the list on every candidate server
configuration of :data:`bench.common.SERVERS`, on PostgreSQL as in
production, to choose production.ini's.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import requests

from .common import (
    BIN,
    PRODUCTION,
    ROOT,
    SERVERS,
    Load,
    Server,
    app_settings,
    free_port,
    peak_memory_mib,
    scratch_database,
    write_ini,
)
from .setup import migrated, user_token

TARGET = 0.50
LIST = "/api/tasks?limit=10"


def _seed(base: str, headers: dict[str, str]) -> int:
    """30 tasks with two performers each, one of them with 20 comments; returns that task's id."""
    performer_ids = []
    for name in ("pia", "per"):
        token = user_token(base, name, "password123")
        performer_ids.append(
            requests.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["id"]
        )
    due = dt.date.today() + dt.timedelta(days=30)
    task_id = 0
    for number in range(30):
        response = requests.post(
            f"{base}/api/tasks",
            json={
                "name": f"task {number}",
                "specification": "benchmark",
                "due_date": (due + dt.timedelta(days=number)).isoformat(),
                "performer_ids": performer_ids,
            },
            headers=headers,
            timeout=10,
        )
        response.raise_for_status()
        task_id = response.json()["id"]
    for number in range(20):
        requests.post(
            f"{base}/api/tasks/{task_id}/comments", json={"text": f"comment {number}"}, headers=headers, timeout=10
        ).raise_for_status()
    return task_id


def _line(name: str, load: Load, ceiling: Load | None = None) -> str:
    text = (
        f"{load.requests_per_second:.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
        f"server CPU {load.server_cpu_ms:.2f} ms/request"
    )
    if load.errors:
        text += f", {load.errors} ERRORS"
    if ceiling is not None:
        ratio = load.requests_per_second / ceiling.requests_per_second
        text += f" = {ratio:.0%} of the ceiling (target >= {TARGET:.0%}) {'ok' if ratio >= TARGET else 'MISSED'}"
    return f"{name}: {text}"


def _tasks_settings(url: str, folder: Path) -> dict[str, str]:
    # Notifications go through a real queue to a mail server that is not
    # there (port 1), once: the worker has work, and no mail leaves.
    return app_settings(
        url,
        **{
            "pyramidion.plugins.enabled": "tasks",
            "huey.url": f"sqlite:///{folder}/huey.sqlite",
            "mail.port": "1",
            "mail.retries": "0",
        },
    )


def _bare_ini(folder: Path) -> Path:
    bare_dir = folder / "bare"
    bare_dir.mkdir()
    return write_ini(bare_dir, {}, factory="call:bench.bare:main")


def compare_servers(seconds: int, rounds: int = 2) -> list[str]:
    """Every candidate server's ceiling and task list (PostgreSQL), and the one serving the list fastest.

    The candidates take turns, ``rounds`` times, and each keeps its best
    round: on a shared machine a burst of someone else's work then costs a
    candidate one round, not the comparison.
    """
    best: dict[str, tuple[Load, Load, float]] = {}
    with scratch_database("postgresql") as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = _tasks_settings(url, folder)
        migrated(settings)
        app_ini, bare_ini = write_ini(folder, settings), _bare_ini(folder)
        for _round in range(rounds):
            for kind in SERVERS:
                with Server(kind, bare_ini, free_port()) as bare:
                    ceiling = bare.load("/", seconds=seconds)
                with Server(kind, app_ini, free_port()) as server:
                    headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                    if not best:
                        _seed(server.url, headers)
                    listed = server.load(LIST, headers, seconds)
                    memory = server.peak_memory_mib()
                if kind not in best or listed.requests_per_second > best[kind][1].requests_per_second:
                    best[kind] = (ceiling, listed, memory)
    lines = []
    for kind, (ceiling, listed, memory) in best.items():
        lines.append(_line(f"servers {kind}: bare ceiling", ceiling))
        lines.append(_line(f"servers {kind}: task list", listed, ceiling) + f"; largest process {memory:.0f} MiB")
    lists = {kind: listed for kind, (_, listed, _) in best.items()}
    lines.append(
        f"servers: task list (best of {rounds} rounds, PostgreSQL): most req/s {max(lists, key=lambda k: lists[k].requests_per_second)}, "
        f"lowest p99 {min(lists, key=lambda k: lists[k].p99_ms)}, "
        f"least server CPU per request {min(lists, key=lambda k: lists[k].server_cpu_ms)}"
    )
    return lines


def run(seconds: int = 10, server_kind: str = PRODUCTION) -> list[str]:
    lines: list[str] = []
    for database in ("sqlite", "postgresql"):
        with scratch_database(database) as url, tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            settings = _tasks_settings(url, folder)
            migrated(settings)
            ini = write_ini(folder, settings)
            with Server(server_kind, _bare_ini(folder), free_port()) as bare:
                ceiling = bare.load("/", seconds=seconds)
            worker = subprocess.Popen(
                [str(BIN / "pyramidion"), "worker", str(ini)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                with Server(server_kind, ini, free_port()) as server:
                    headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                    task_id = _seed(server.url, headers)
                    assert len(requests.get(server.url + LIST, headers=headers, timeout=10).json()["results"]) == 10
                    listed = server.load(LIST, headers, seconds)
                    detail = server.load(f"/api/tasks/{task_id}", headers, seconds)
                    web_mib = server.peak_memory_mib()
                worker_mib = peak_memory_mib(worker.pid)
            finally:
                worker.terminate()
                worker.wait(timeout=15)
            name = f"http {database} ({server_kind})"
            lines.append(_line(f"{name}: bare ceiling", ceiling))
            lines.append(_line(f"{name}: GET {LIST}", listed, ceiling))
            lines.append(_line(f"{name}: GET /api/tasks/<id> with 20 comments", detail))
            lines.append(
                f"memory after http {database}: web process peak {web_mib:.0f} MiB, worker peak {worker_mib:.0f} MiB"
            )
    return lines
