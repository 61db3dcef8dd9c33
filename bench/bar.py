"""Benchmark: wallet purchases per second through the bar API against the task list on the same server, then a ledger check.

    PYTHONWARNINGS=ignore .venv/bin/python -m bench.bar [--clients 16] [--seconds 10]

A scratch database (``bench.common.scratch_database``) on the PostgreSQL server named by
``PYRAMIDION_BENCH_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) is created, migrated and
dropped again. One app with the tasks and bar plugins runs under
production.ini's server (``bench.common.Server``, as the ``http`` figures),
with issue 17's tasks (``bench.setup.seed_tasks``), a seller, a product and
``--wallets`` funded wallets. First ``wrk`` with ``--clients`` connections
loads ``GET /api/tasks?limit=10`` (the reference, after a warm-up, as in
``http``); then ``--clients`` threads here, each with its own HTTP session,
buy from random wallets until time is up (not wrk: a client must know each
purchase's answer for the ledger check, and wrk drops the calls in flight when
it stops). Both with the server's CPU time per request. Target: purchases at
least half the task list's requests/s; the second ratio, of CPU time per
request, is the one a crowded machine barely moves.

Afterwards every wallet is checked: the purchases the API confirmed (201)
must each appear once in the ledger ("lost" counts confirmed debits missing
from it, "double" debits it holds beyond those confirmed), every balance must
equal its ledger sum, and none may be below the minimum.
Prints three lines, the last with what else a purchase costs the machine (the
PostgreSQL backends of the scratch database, and these client threads, which
share the two cores with the server):

    bar: task list 450 req/s, p50 ..., server CPU 2.90 ms/request (production: gunicorn sync, 2 workers, postgresql)
    bar: 300 purchases/s (16 clients, postgresql), server CPU 4.10 ms/request = 67% of the task list (target >= 50%) ok, 71% of its requests per CPU second; ledger ok: 0 lost, 0 double
    bar: CPU per purchase besides the server's: PostgreSQL's backends 0.90 ms, the 16 client threads 1.30 ms
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, make_url, select

from .common import (
    PRODUCTION,
    Server,
    app_settings,
    cpu_seconds,
    figure,
    free_port,
    scratch_database,
    server_label,
    write_ini,
)
from .setup import seed_tasks, user_token

PRICE = Decimal("2.20")
START_BALANCE = Decimal("1000.00")
PASSWORD = "bench-password"
TARGET = 0.5  # purchases/s at least this share of the task list's requests/s
LIST = "/api/tasks?limit=10"


def bar_settings(database_url: str) -> dict[str, str]:
    # The seeding's notifications go to a mail server that is not there (port 1), once.
    return app_settings(
        database_url,
        **{"pyramidion.plugins.enabled": "tasks,bar", "mail.port": "1", "mail.retries": "0"},
    )


def arrange(settings: dict[str, Any], wallets: int) -> tuple[list[int], int]:
    """Migrate, then a seller, a product and ``wallets`` funded wallets; returns (wallet ids, product id)."""
    import transaction

    from pyramidion import make_config, migrations
    from pyramidion.auth.models import Group, GroupPermission, User
    from pyramidion.db import transactional_session
    from pyramidion_bar.models import Holder, LedgerKind, PaymentMethod, Personnel, Product, Stock
    from pyramidion_bar.services import wallet

    registry = make_config(dict(settings)).registry
    migrations.upgrade(registry)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        db = transactional_session(registry.db_session_factory, manager)
        seller = User(
            username="seller",
            email="seller@bench.example",
            password_hash=registry.passwords.hash(PASSWORD),
            groups=[Group(name="bench-sellers", grants=[GroupPermission(permission="bar.sell")])],
        )
        db.add(seller)
        db.flush()
        db.add(Personnel(user_id=seller.id, nickname="Seller"))
        product = Product(name="Beer", price=PRICE, stock=Stock(name="Keg", quantity=Decimal("1000000")))
        db.add(product)
        holder_ids = []
        for number in range(wallets):
            user = User(username=f"member{number}", email=f"member{number}@bench.example", password_hash=None)
            db.add(user)
            db.flush()
            holder = Holder(user_id=user.id)
            db.add(holder)
            db.flush()
            wallet.credit(db, holder.id, START_BALANCE, LedgerKind.top_up, method=PaymentMethod.cash)
            holder_ids.append(holder.id)
        db.flush()
        product_id = product.id
    registry.db_engine.dispose()
    return holder_ids, product_id


def run_clients(
    base: str, token: str, holders: list[int], product: int, clients: int, seconds: float
) -> tuple[Counter, Counter, float]:
    """Buy until time is up; returns (confirmed purchases per wallet, statuses, elapsed seconds)."""
    confirmed: Counter = Counter()
    statuses: Counter = Counter()
    lock = threading.Lock()
    go = threading.Event()
    stop_at: list[float] = []

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: Counter = Counter()
        seen: Counter = Counter()
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            go.wait()
            while time.monotonic() < stop_at[0]:
                holder = rng.choice(holders)
                body = {
                    "payment_method": "wallet",
                    "holder_id": holder,
                    "lines": [{"product_id": product, "quantity": 1}],
                }
                try:
                    status = http.post(f"{base}/api/bar/purchases", json=body, timeout=30).status_code
                except requests.RequestException:
                    status = 0
                seen[status] += 1
                if status == 201:
                    mine[holder] += 1
        with lock:
            confirmed.update(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    stop_at.append(started + seconds)
    go.set()
    for thread in threads:
        thread.join()
    return confirmed, statuses, time.monotonic() - started


def database_cpu_seconds(database_url: str) -> dict[int, float]:
    """CPU time so far of each PostgreSQL backend connected to ``database_url``'s database, by process id."""
    marker = f" {make_url(database_url).database} ".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()  # "postgres: 15/main: USER DATABASE HOST(PORT) STATE"
        except OSError:  # gone meanwhile
            continue
        if title.startswith(b"postgres: ") and marker in title:
            found[int(proc.name)] = cpu_seconds(int(proc.name))
    return found


def check_ledger(database_url: str, confirmed: Counter) -> tuple[int, int, list[str]]:
    """(lost, double, other problems) comparing confirmed purchases with the ledger and balances."""
    from sqlalchemy.orm import Session

    from pyramidion.db import make_engine
    from pyramidion_bar.models import Holder, LedgerEntry, LedgerKind
    from pyramidion_bar.services.wallet import ledger_mismatches

    engine = make_engine({"sqlalchemy.url": database_url})
    with Session(engine) as db:
        booked = Counter(
            dict(
                db.execute(
                    select(LedgerEntry.holder_id, func.count())
                    .where(LedgerEntry.kind == LedgerKind.purchase)
                    .group_by(LedgerEntry.holder_id)
                ).all()
            )
        )
        balances = dict(db.execute(select(Holder.id, Holder.balance)).all())
        problems = [f"wallet {h}: balance {b} but ledger {t}" for h, b, t in ledger_mismatches(db)]
    engine.dispose()
    lost = sum(max(confirmed[h] - booked[h], 0) for h in balances)
    double = sum(max(booked[h] - confirmed[h], 0) for h in balances)
    for holder, balance in balances.items():
        if balance != START_BALANCE - PRICE * confirmed[holder]:
            problems.append(f"wallet {holder}: balance {balance}, expected {START_BALANCE - PRICE * confirmed[holder]}")
        if balance < 0:
            problems.append(f"wallet {holder}: below the minimum at {balance}")
    return lost, double, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="connections of each load")
    parser.add_argument("--seconds", type=int, default=10, help="of each load, after a warm-up")
    parser.add_argument("--wallets", type=int, default=64)
    args = parser.parse_args()

    with scratch_database("postgresql") as database_url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = bar_settings(database_url)
        holders, product = arrange(settings, args.wallets)
        with Server(PRODUCTION, write_ini(folder, settings), free_port()) as server:
            headers = {"Authorization": f"Bearer {user_token(server.url)}"}
            seed_tasks(server.url, headers, database_url)
            task_list = server.load(LIST, headers, args.seconds)
            login = requests.post(
                f"{server.url}/api/auth/token", json={"username": "seller", "password": PASSWORD}, timeout=10
            )
            login.raise_for_status()
            before, database_before, client_before = (
                server.cpu_seconds(),
                database_cpu_seconds(database_url),
                time.process_time(),
            )
            confirmed, statuses, elapsed = run_clients(
                server.url, login.json()["access"], holders, product, args.clients, args.seconds
            )
            calls = max(sum(statuses.values()), 1)
            cpu_ms = (server.cpu_seconds() - before) / calls * 1000
            client_ms = (time.process_time() - client_before) / calls * 1000
            database = database_cpu_seconds(database_url)
            database_ms = sum(t - database_before.get(pid, 0.0) for pid, t in database.items()) / calls * 1000
        lost, double, problems = check_ledger(database_url, confirmed)

    rate = sum(confirmed.values()) / elapsed
    ratio = rate / task_list.requests_per_second
    unexpected = {status: n for status, n in statuses.items() if status != 201}
    ledger = "ok" if not (lost or double or problems) else "NOT ok"
    met = ratio >= TARGET and not unexpected
    print(f"bar: task list {figure(task_list)} ({server_label(PRODUCTION)}, postgresql)")
    print(
        f"bar: {rate:.0f} purchases/s ({args.clients} clients, postgresql), server CPU {cpu_ms:.2f} ms/request "
        f"= {ratio:.0%} of the task list (target >= {TARGET:.0%}) {'ok' if met else 'MISSED'}, "
        f"{task_list.server_cpu_ms / cpu_ms:.0%} of its requests per CPU second; "
        f"ledger {ledger}: {lost} lost, {double} double"
    )
    print(
        f"bar: CPU per purchase besides the server's: PostgreSQL's backends {database_ms:.2f} ms, "
        f"the {args.clients} client threads {client_ms:.2f} ms"
    )
    if unexpected:
        print(f"bar: answers other than 201: {unexpected}", file=sys.stderr)
    for problem in problems[:20]:
        print(f"bar: {problem}", file=sys.stderr)
    if ledger != "ok" or unexpected:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
