"""What every benchmark needs: scratch databases, servers on loopback, a load generator.

Loads come from ``wrk`` (Debian package) against 127.0.0.1 only, for a fixed
duration, so every run stops by itself.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES = os.environ.get("PYRAMIDION_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
JWT_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_database(kind: str) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a database on the PostgreSQL server."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite"
        return
    url = make_url(POSTGRES).set(drivername="postgresql+psycopg")
    name = f"pyramidion_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_settings(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "sqlalchemy.url": database_url,
        "huey.url": "immediate",
        "jwt.secret": JWT_SECRET,
        "realtime.port": "1",
        "realtime.publish_timeout": "0.5",
        "auth.password_time_cost": "1",
        "auth.password_memory_cost": "64",
        "tm.manager_hook": "pyramid_tm.explicit_manager",  # as in production.ini
        **extra,
    }


def write_ini(folder: Path, settings: dict[str, str], factory: str = "egg:pyramidion") -> Path:
    ini = folder / "bench.ini"
    lines = ["[app:main]", f"use = {factory}"] + [f"{key} = {value}" for key, value in settings.items()]
    ini.write_text("\n".join(lines) + "\n")
    return ini


# The candidate servers for 2 cores, as production.ini's [server:main] would
# say them; "production" is that section itself.
SERVERS: dict[str, dict[str, str]] = {
    "waitress": {"use": "egg:waitress#main", "threads": "8"},
    "gunicorn-sync-2": {"use": "egg:gunicorn#main", "worker_class": "sync", "workers": "2"},
    "gunicorn-sync-3": {"use": "egg:gunicorn#main", "worker_class": "sync", "workers": "3"},
    "gunicorn-gthread-2x4": {"use": "egg:gunicorn#main", "worker_class": "gthread", "workers": "2", "threads": "4"},
    "gunicorn-gthread-4x2": {"use": "egg:gunicorn#main", "worker_class": "gthread", "workers": "4", "threads": "2"},
}
PRODUCTION = "production"
# Pyramidion's and the peer's worker processes: as many as the issue-17 comparison ran.
WORKERS = 2
WARM_UP = 2  # seconds of load before each measured one


def server_section(kind: str) -> dict[str, str]:
    """The [server:main] options of ``kind``, without an address; production.ini's with :data:`WORKERS` workers."""
    if kind != PRODUCTION:
        return dict(SERVERS[kind])
    parser = configparser.RawConfigParser()
    parser.read(ROOT / "production.ini")
    section = {
        key: value for key, value in parser.items("server:main") if key not in ("bind", "listen", "host", "port")
    }
    if "workers" in section:
        section["workers"] = str(WORKERS)
    return section


def server_label(kind: str) -> str:
    """``kind`` as the figures name it: production's with its worker class and workers."""
    if kind != PRODUCTION:
        return kind
    section = server_section(kind)
    return f"production: gunicorn {section.get('worker_class', 'sync')}, {section.get('workers', 1)} workers"


class Served:
    """A server process on 127.0.0.1:``port``, ready once it answers ``GET /``; stopped on exit."""

    name = "server"

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        # PYTHONPATH: bench.bare and bench.peer are served from the checkout, which servers do not look in.
        return {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}

    def __enter__(self) -> Served:
        self.log = self.folder / f"server-{self.port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.environment(), stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url + "/", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
                    raise RuntimeError(f"{self.name} did not start: {' / '.join(tail)}") from None
                time.sleep(0.1)

    def load(self, path: str, headers: dict[str, str] | None = None, seconds: int = 10) -> Load:
        """``wrk`` on ``path`` after a warm-up, with the server's CPU time per request."""
        wrk(self.url + path, headers, seconds=WARM_UP)
        before = self.cpu_seconds()
        load = wrk(self.url + path, headers, seconds=seconds)
        load.server_cpu_ms = (self.cpu_seconds() - before) / max(load.requests, 1) * 1000
        return load

    def _pids(self) -> list[int]:
        return [self.process.pid, *_children(self.process.pid)]

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server and its workers so far."""
        return sum(cpu_seconds(pid) for pid in self._pids())

    def peak_memory_mib(self) -> float:
        """Peak resident memory of the largest process: the server, or one of its workers."""
        return max(peak_memory_mib(pid) for pid in self._pids())

    def memory(self) -> str:
        """Peak resident memory of the largest worker (the server itself if it has none), and of all processes.

        With the largest worker's private memory now: the part of its
        resident memory it shares with no other process (not the pages a
        forked worker still shares with its master).
        """
        pids = self._pids()
        total = sum(peak_memory_mib(pid) for pid in pids)
        private = max(private_memory_mib(pid) for pid in self._workers())
        return (
            f"largest worker {self.largest_worker_mib():.0f} MiB (private now {private:.0f} MiB), "
            f"{len(pids)} processes {total:.0f} MiB"
        )

    def largest_worker_mib(self) -> float:
        """Peak resident memory (VmHWM) of the largest worker, or of the server if it has none."""
        return max(peak_memory_mib(pid) for pid in self._workers())

    def _workers(self) -> list[int]:
        return _children(self.process.pid) or [self.process.pid]

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Server(Served):
    """``pserve`` serving an ini file's app on 127.0.0.1 with one of the server sections above.

    pserve, as in production: it loads the app before the server starts (and
    so before gunicorn forks its workers).
    """

    def __init__(self, kind: str, ini: Path, port: int) -> None:
        super().__init__(port, ini.parent)
        self.kind = kind
        self.ini = ini
        self.name = f"{kind} server"

    def command(self) -> list[str]:
        section = server_section(self.kind)
        address = "listen" if "waitress" in section["use"] else "bind"
        section[address] = f"127.0.0.1:{self.port}"
        served = self.ini.with_name(f"{self.ini.stem}-{self.port}.ini")
        served.write_text(
            self.ini.read_text() + "\n[server:main]\n" + "".join(f"{k} = {v}\n" for k, v in section.items())
        )
        return [str(BIN / "pserve"), str(served)]


class Peer(Served):
    """The FastAPI peer (bench/peer.py) on ``database_url``: uvicorn with :data:`WORKERS` workers."""

    name = "FastAPI peer"

    def __init__(self, database_url: str, folder: Path, port: int) -> None:
        super().__init__(port, folder)
        self.database_url = database_url

    def command(self) -> list[str]:
        # No access log: gunicorn keeps none either, unless told to.
        return [
            *(str(BIN / "uvicorn"), "bench.peer:app", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--workers", str(WORKERS), "--no-access-log", "--log-level", "warning"),
        ]

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "PEER_DATABASE_URL": self.database_url, "PEER_JWT_SECRET": JWT_SECRET}


def uvicorn_flavour() -> str:
    """What uvicorn serves the peer with: httptools and uvloop when installed (``uvicorn[standard]``), else h11 and asyncio."""
    found = {name: importlib.util.find_spec(name) is not None for name in ("httptools", "uvloop")}
    return f"{'httptools' if found['httptools'] else 'h11'}, {'uvloop' if found['uvloop'] else 'asyncio'}"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User and system CPU time of a running process, or of one of its threads; 0 once it is gone."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        stat = Path(path).read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mib(pid: int) -> float:
    """A running process's peak resident memory (VmHWM)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def private_memory_mib(pid: int) -> float:
    """A running process's resident memory that no other process shares (private clean and dirty pages)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except FileNotFoundError:
        return 0.0
    return sum(int(kib) for kib in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+) kB", rollup, re.M)) / 1024


def machine() -> str:
    """The CPU, its cores and the load average: the context every figure needs."""
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return f"{model.group(1).strip() if model else 'unknown CPU'}, {os.cpu_count()} cores, {load()}"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    # CPU time the server's processes spent per request: unlike requests/s,
    # barely moved by what else the machine runs.
    server_cpu_ms: float | None = None


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, headers: dict[str, str] | None = None, seconds: int = 10, connections: int = 16) -> Load:
    """Requests per second and latency of ``url`` under ``connections`` concurrent connections."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    header_args = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", *header_args, url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Latency Distribution" not in out:
        raise RuntimeError(f"wrk measured nothing at {url}:\n{out}")
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total_errors = int(errors.group(1)) if errors else 0
    if socket_errors:
        total_errors += sum(int(g) for g in socket_errors.groups())
    return Load(rps, p50, p99, total_errors, requests_done)


def figure(load: Load) -> str:
    """A load's requests/s, latency and server CPU per request."""
    text = (
        f"{load.requests_per_second:.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
        f"server CPU {load.server_cpu_ms:.2f} ms/request"
    )
    return text + (f", {load.errors} ERRORS" if load.errors else "")


def requests_ratio(load: Load, reference: Load) -> float:
    return load.requests_per_second / reference.requests_per_second


def cpu_ratio(load: Load, reference: Load) -> float:
    return load.server_cpu_ms / reference.server_cpu_ms


def versus(load: Load, reference: Load, whose: str) -> str:
    """``load`` as multiples of the ``whose`` reference's requests/s and CPU per request."""
    return f"{requests_ratio(load, reference):.2f}x the {whose}'s req/s at {cpu_ratio(load, reference):.2f}x its CPU/request"


def verdict(met: bool, target: str) -> str:
    return f"(target {target}) {'ok' if met else 'MISSED'}"


class Abort(Exception):
    """The run cannot measure what it says (the peer answers other data than Pyramidion): stop with this message."""
