"""Benchmark: the hello template over 1,000 hosts, platform against plain Nornir.

The platform run goes the whole way: a run recorded and queued (Huey, in
process), the inventory read from the database through our inventory plugin,
every host's result stored. Plain Nornir runs the same template over the same
hosts from SimpleInventory YAML files. Both use the threaded runner with the
same number of workers; each side's best of a few rounds counts.

    .venv/bin/python -m bench.jobs [--hosts 1000] [--rounds 3] [--database sqlite|postgresql]

The platform's database is a scratch one: a SQLite file, or a database on the
PostgreSQL server named by ``PYRAMIDION_BENCH_DATABASE_URL``. Prints
``jobs: platform 1.23 s, plain nornir 1.05 s, overhead 17% on sqlite (target <= 25%) ok``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import transaction
from nornir import InitNornir
from pyramid.scripting import prepare
from sqlalchemy import select

from pyramidion import make_config, migrations
from pyramidion.db import transactional_session
from pyramidion_jobs.builtin_templates import hello_world
from pyramidion_jobs.interfaces import IJobRunner
from pyramidion_jobs.inventory import import_simple_inventory
from pyramidion_jobs.models import Inventory, Run, RunHost, RunStatus
from pyramidion_jobs.services import start_run

from .common import scratch_database

NUM_WORKERS = 20
TARGET = 0.25


def hosts_yaml(count: int) -> str:
    return "".join(
        f"host-{i:04d}:\n  hostname: 10.{i // 256}.{i % 256}.1\n  platform: ios\n  groups: [core]\n"
        for i in range(count)
    )


GROUPS_YAML = "core:\n  data: {role: core}\n"


def platform(database_url: str, hosts: str) -> tuple[object, int]:
    settings = {
        "sqlalchemy.url": database_url,
        "huey.url": "immediate",
        "jwt.secret": "bench-secret-0123456789abcdef0123456789",
        "realtime.port": "9",  # nothing listens: progress events are dropped, as without a router
        "realtime.publish_timeout": "0.5",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }
    registry = make_config(settings).registry
    migrations.upgrade(registry)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        db = transactional_session(registry.db_session_factory, manager)
        inventory = Inventory(name="bench")
        db.add(inventory)
        import_simple_inventory(db, inventory, registry.jobs_cipher, hosts, GROUPS_YAML)
        inventory_id = inventory.id
    return registry, inventory_id


def run_on_platform(registry: object, inventory_id: int, hosts: int) -> float:
    template = registry.job_templates.get("hello_world")
    started = time.perf_counter()
    with prepare(registry=registry) as env:
        request = env["request"]
        with request.tm:
            run_id = start_run(request.db, request.find_service(IJobRunner), template, inventory_id, {}, {}).id
        # huey.url = immediate: the run happened when the transaction committed.
    elapsed = time.perf_counter() - started
    with registry.db_session_factory() as db:
        run = db.get(Run, run_id)
        stored = len(db.scalars(select(RunHost.id).where(RunHost.run_id == run_id)).all())
    assert run.status == RunStatus.finished and stored == hosts, (run.status, stored)
    return elapsed


def run_plain(folder: Path) -> tuple[float, float]:
    """Seconds for the whole of plain Nornir, and for its ``run`` alone (the YAML already loaded)."""
    started = time.perf_counter()
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": NUM_WORKERS}},
        inventory={
            "plugin": "SimpleInventory",
            "options": {"host_file": str(folder / "hosts.yaml"), "group_file": str(folder / "groups.yaml")},
        },
        logging={"enabled": False},
    )
    loaded = time.perf_counter()
    result = nr.run(task=hello_world)
    assert not result.failed
    finished = time.perf_counter()
    return finished - started, finished - loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # progress events to the absent router would log one warning each
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database) as database_url:
        folder = Path(tmp)
        hosts = hosts_yaml(args.hosts)
        (folder / "hosts.yaml").write_text(hosts)
        (folder / "groups.yaml").write_text(GROUPS_YAML)
        registry, inventory_id = platform(database_url, hosts)
        ours, plain, plain_run = [], [], []
        for _ in range(args.rounds):  # alternating, so neither side gets a warmer machine
            whole, run_alone = run_plain(folder)
            plain.append(whole)
            plain_run.append(run_alone)
            ours.append(run_on_platform(registry, inventory_id, args.hosts))
        registry.db_engine.dispose()  # before the scratch database is dropped
    best_ours, best_plain = min(ours), min(plain)
    overhead = best_ours / best_plain - 1
    print(
        f"jobs: platform {best_ours:.2f} s, plain nornir {best_plain:.2f} s, "
        f"overhead {overhead:.0%} on {args.database} (target <= {TARGET:.0%}) {'ok' if overhead <= TARGET else 'MISSED'}"
    )
    # SimpleInventory's YAML parsing is most of plain Nornir's time; this shows the run itself.
    print(f"jobs: plain nornir's run alone, inventory already loaded: {min(plain_run):.2f} s")
    raise SystemExit(0 if overhead <= TARGET else 1)


if __name__ == "__main__":
    main()
