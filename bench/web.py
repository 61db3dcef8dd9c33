"""Figure 1: the task list and detail against the FastAPI peer and the bare ceiling (issue 17).

On SQLite and on PostgreSQL, issue 17's data (:func:`bench.setup.seed_tasks`:
1,000 tasks of the caller with two performers and 3 comments each), three
servers side by side: Pyramidion (production.ini's server with 2 workers,
and a queue worker for the seeding's notifications), the FastAPI peer
(``bench/peer.py``, uvicorn with 2 workers) on the same database, and the bare
ceiling (``bench/bare.py``, a bare Pyramid app answering a small JSON object)
on Pyramidion's server. Before any load both must answer page 1 and the
detail with the same tasks and comments, else the run stops. Each endpoint is
then loaded with 16 connections as the same user with the same JWT,
Pyramidion first, then the peer. Target: each endpoint at least twice the
peer's requests/s at no more than half its server CPU per request. The
workers' peak memory is reported afterwards (the target is figure 2's, with
every plugin).

``servers`` runs the bare app and the list on every candidate server
configuration of :data:`bench.common.SERVERS`, on PostgreSQL as in
production, to choose production.ini's.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import requests

from .common import (
    BIN,
    PRODUCTION,
    ROOT,
    SERVERS,
    Abort,
    Load,
    Peer,
    Server,
    app_settings,
    cpu_ratio,
    figure,
    free_port,
    peak_memory_mib,
    requests_ratio,
    scratch_database,
    server_label,
    uvicorn_flavour,
    verdict,
    versus,
    write_ini,
)
from .setup import COMMENTS, migrated, seed_tasks, user_token

LIST = "/api/tasks?limit=10"
PEER_FACTOR = 2  # at least twice the peer's requests/s, at most half its CPU per request


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


def bare_ini(folder: Path) -> Path:
    bare_dir = folder / "bare"
    bare_dir.mkdir()
    return write_ini(bare_dir, {}, factory="call:bench.bare:main")


def _same_answers(ours: str, peer: str, headers: dict[str, str]) -> int:
    """The id of the first task of page 1, once Pyramidion and the peer answer page 1 and that task alike.

    Alike: the same JSON, the servers' own addresses in the page links aside.
    """
    task_id = 0
    for path in (LIST, "/api/tasks/{task_id}"):
        path = path.format(task_id=task_id)
        bodies = [
            json.loads(requests.get(base + path, headers=headers, timeout=10).text.replace(base, ""))
            for base in (ours, peer)
        ]
        if bodies[0] != bodies[1]:
            raise Abort(
                f"the FastAPI peer answers GET {path} with {bodies[1]!r:.300}, Pyramidion with {bodies[0]!r:.300}"
            )
        task_id = task_id or bodies[0]["results"][0]["id"]
    if len(bodies[0]["comments"]) != COMMENTS:
        raise Abort(f"task {task_id} has {len(bodies[0]['comments'])} comments, not {COMMENTS}")
    return task_id


def _against_peer(name: str, ours: Load, peer: Load, ceiling: Load) -> list[str]:
    met = requests_ratio(ours, peer) >= PEER_FACTOR and cpu_ratio(ours, peer) <= 1 / PEER_FACTOR
    return [
        f"{name}: {figure(ours)}; {versus(ours, peer, 'peer')} "
        f"{verdict(met, f'>= {PEER_FACTOR}x at <= 1/{PEER_FACTOR}')}; {versus(ours, ceiling, 'ceiling')}",
        f"{name}, FastAPI peer: {figure(peer)}; {versus(peer, ceiling, 'ceiling')}",
    ]


def run(seconds: int = 10, server_kind: str = PRODUCTION) -> list[str]:
    lines: list[str] = []
    for database in ("sqlite", "postgresql"):
        with scratch_database(database) as url, tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            settings = _tasks_settings(url, folder)
            migrated(settings)
            ini = write_ini(folder, settings)
            worker = subprocess.Popen(
                [str(BIN / "pyramidion"), "worker", str(ini)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                with (
                    Server(server_kind, bare_ini(folder), free_port()) as bare,
                    Server(server_kind, ini, free_port()) as server,
                ):
                    headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                    seed_tasks(server.url, headers, url)
                    with Peer(url, folder, free_port()) as peer:
                        task_id = _same_answers(server.url, peer.url, headers)
                        ceiling = bare.load("/", seconds=seconds)
                        loads = {}
                        for path in (LIST, f"/api/tasks/{task_id}"):
                            loads[path] = (server.load(path, headers, seconds), peer.load(path, headers, seconds))
                        peer_memory = peer.memory()
                    memory = server.memory()
                worker_mib = peak_memory_mib(worker.pid)
            finally:
                worker.terminate()
                worker.wait(timeout=15)
        name = f"http {database}"
        lines.append(f"{name}: bare ceiling ({server_label(server_kind)}): {figure(ceiling)}")
        (ours, theirs), (detail, peer_detail) = loads.values()
        lines += _against_peer(f"{name}: GET {LIST}", ours, theirs, ceiling)
        lines += _against_peer(f"{name}: GET /api/tasks/<id> with {COMMENTS} comments", detail, peer_detail, ceiling)
        lines.append(
            f"memory after http {database}: Pyramidion {memory}, queue worker {worker_mib:.0f} MiB; "
            f"FastAPI peer (uvicorn: {uvicorn_flavour()}) {peer_memory}"
        )
    return lines


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
        app_ini, bare = write_ini(folder, settings), bare_ini(folder)
        for _round in range(rounds):
            for kind in SERVERS:
                with Server(kind, bare, free_port()) as bare_server:
                    ceiling = bare_server.load("/", seconds=seconds)
                with Server(kind, app_ini, free_port()) as server:
                    headers = {"Authorization": f"Bearer {user_token(server.url)}"}
                    if not best:
                        seed_tasks(server.url, headers, url)
                    listed = server.load(LIST, headers, seconds)
                    memory = server.peak_memory_mib()
                if kind not in best or listed.requests_per_second > best[kind][1].requests_per_second:
                    best[kind] = (ceiling, listed, memory)
    lines = []
    for kind, (ceiling, listed, memory) in best.items():
        lines.append(f"servers {kind}: bare ceiling: {figure(ceiling)}")
        lines.append(
            f"servers {kind}: task list: {figure(listed)}; {versus(listed, ceiling, 'ceiling')}; "
            f"largest process {memory:.0f} MiB"
        )
    lists = {kind: listed for kind, (_, listed, _) in best.items()}
    lines.append(
        f"servers: task list (best of {rounds} rounds, PostgreSQL): most req/s {max(lists, key=lambda k: lists[k].requests_per_second)}, "
        f"lowest p99 {min(lists, key=lambda k: lists[k].p99_ms)}, "
        f"least server CPU per request {min(lists, key=lambda k: lists[k].server_cpu_ms)}"
    )
    return lines
