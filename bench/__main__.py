"""Run every benchmark and print one line per figure: ``python -m bench [names]``.

Each load runs for a fixed time against 127.0.0.1 only and stops by itself.
Figures are ratios against references measured in the same run, because the
machines are shared and absolute figures drift; see bench/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from . import auth, http

HERE = Path(__file__).resolve().parent
SCRIPTS = {"jobs": "jobs.py", "bar": "bar.py", "robots": "robots.py"}
ALL = ("http", "auth", "jobs", "robots", "bar")


def _script(name: str) -> list[str]:
    """A benchmark written as a script prints its figures as its last lines."""
    script = HERE / SCRIPTS[name]
    if not script.exists():
        return [f"{name}: not available ({script.name} missing)"]
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        return [f"{name}: FAILED: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}"]
    return [line for line in result.stdout.strip().splitlines() if line.startswith(f"{name}:")] or result.stdout.strip().splitlines()[-1:]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=ALL, help="benchmarks to run (default: all)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each HTTP load")
    parser.add_argument("--server", choices=http.SERVERS, help="skip the server comparison and use this one")
    args = parser.parse_args()
    started = time.monotonic()
    for name in args.names or ALL:
        if name == "http":
            lines = http.run(args.seconds, args.server)
        elif name == "auth":
            lines = auth.run(args.server or "gunicorn-gthread", args.seconds)
        else:
            lines = _script(name)
        for line in lines:
            print(line, flush=True)
    print(f"bench: done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
