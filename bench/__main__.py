"""Run the benchmarks and print one line per figure: ``python -m bench [names]``.

Each load runs for a fixed time against 127.0.0.1 only and stops by itself;
a benchmark script that overruns its time limit is stopped.
Figures are ratios against references measured in the same run (the FastAPI
peer, bench/peer.py, and the bare ceiling, bench/bare.py), because the
machines are shared and absolute figures drift; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from . import auth, web
from .common import PRODUCTION, ROOT, SERVERS, Abort, load, machine

ALL = ("servers", "http", "auth", "jobs", "robots", "bar")
# Benchmarks written by their plugins' owners as scripts; each prints its
# figures as lines starting with its name.
SCRIPTS = ("jobs", "robots", "bar")
# The targets hold on SQLite and on PostgreSQL; bar's is defined on PostgreSQL, the script's only database.
DATABASES = {"jobs": ("sqlite", "postgresql"), "robots": ("sqlite", "postgresql")}
SCRIPT_TIME_LIMIT = 600  # seconds


def run_script(name: str, seconds: int, database: str | None = None) -> list[str]:
    """Run ``bench/<name>.py`` as a module (so the bench folder never shadows a library), on ``database``
    when given: its figures, and the peak memory of the largest process it ran."""
    command = [sys.executable, "-m", f"bench.{name}"]
    if name != "jobs":  # jobs runs a fixed amount of work, the others for a time
        command += ["--seconds", str(seconds)]
    if database is not None:
        command += ["--database", database]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # A session of its own, so a script that overruns is stopped with every server it started.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True, start_new_session=True
        )
        deadline = time.monotonic() + SCRIPT_TIME_LIMIT
        # Reaped here rather than by Popen: wait4 also tells the peak resident
        # memory of the largest process of the script's tree (itself, or a
        # server it started and waited for).
        while not (reaped := os.wait4(process.pid, os.WNOHANG))[0]:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                os.wait4(process.pid, 0)
                process.returncode = -signal.SIGKILL
                return [f"{name}: STOPPED after {SCRIPT_TIME_LIMIT} s"]
            time.sleep(0.2)
        _, status, usage = reaped
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    figures = [line for line in (stdout + stderr).splitlines() if line.startswith(f"{name}:")]
    if process.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
        figures.append(f"{name}: exited with status {process.returncode}: {last[0]}")
    where = f" ({database})" if database else ""
    figures.append(f"memory after {name}{where}: largest process peak {usage.ru_maxrss / 1024:.0f} MiB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=f"benchmarks to run: {', '.join(ALL)} (default: all)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load (default 10)")
    parser.add_argument(
        "--server",
        choices=[PRODUCTION, *SERVERS],
        default=PRODUCTION,
        help="WSGI server of http and auth (default: production.ini's [server:main], with 2 workers as the peer)",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(ALL))
    if unknown:  # not argparse's choices: with nargs="*" they refuse an empty list
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
    started = time.monotonic()
    verdicts: list[str] = []
    print(f"machine: {machine()}", flush=True)
    for name in args.names or ALL:
        try:
            if name == "servers":
                lines = web.compare_servers(args.seconds)
            elif name == "http":
                lines = web.run(args.seconds, args.server)
            elif name == "auth":
                lines = auth.run(args.server, args.seconds)
            else:
                lines = [
                    line
                    for database in DATABASES.get(name, (None,))
                    for line in run_script(name, args.seconds, database)
                ]
        except Abort as exc:
            sys.exit(f"{name}: STOPPED: {exc}")
        for line in lines:
            print(line, flush=True)
        verdicts += re.findall(r"\(target [^)]*\) (?:ok|MISSED)", "\n".join(lines))
    if verdicts:
        missed = sum(verdict.endswith("MISSED") for verdict in verdicts)
        print(f"bench: {len(verdicts) - missed} of {len(verdicts)} targets met")
    print(f"bench: done in {time.monotonic() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
