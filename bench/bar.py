"""Benchmark: wallet purchases per second through the bar API, then a ledger check.

    PYTHONWARNINGS=ignore .venv/bin/python -m bench.bar [--clients 16] [--seconds 10]

A scratch database (``bench.common.scratch_database``) on the PostgreSQL server named by
``PYRAMIDION_BENCH_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) is created, migrated and
dropped again. The app (bar plugin only) runs under waitress on 127.0.0.1 in a
process of its own; the clients are threads here, each with its own
keep-alive HTTP session, buying from random wallets until time is up.

Afterwards every wallet is checked: the purchases the API confirmed (201)
must each appear once in the ledger ("lost" counts confirmed debits missing
from it, "double" debits it holds beyond those confirmed), every balance must
equal its ledger sum, and none may be below the minimum. Prints one line:

    bar: 412 purchases/s (16 clients, postgresql), ledger ok: 0 lost, 0 double
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import requests
from sqlalchemy import func, select

from .common import free_port, scratch_database

PRICE = Decimal("2.20")
START_BALANCE = Decimal("1000.00")
PASSWORD = "bench-password"


def app_settings(database_url: str, clients: int) -> dict[str, Any]:
    return {
        "sqlalchemy.url": database_url,
        "sqlalchemy.pool_size": str(clients + 4),
        "pyramidion.plugins.enabled": "bar",
        "huey.url": "immediate",
        "jwt.secret": "bench-secret-0123456789abcdef0123456789abcdef",
        "realtime.port": "1",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }


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


def serve(settings: dict[str, Any], port: int, threads: int) -> None:
    """The web process: the app under waitress on loopback."""
    from waitress import serve as waitress_serve

    from pyramidion import make_app

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is expected under load
    waitress_serve(make_app(settings), host="127.0.0.1", port=port, threads=threads, _quiet=True)


def wait_until_up(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/api/openapi.json", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("bar bench: the server did not start")


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
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--wallets", type=int, default=64)
    args = parser.parse_args()

    with scratch_database("postgresql") as database_url:
        settings = app_settings(database_url, args.clients)
        holders, product = arrange(settings, args.wallets)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(settings, port, args.clients), daemon=True
        )
        server.start()
        try:
            wait_until_up(base, time.monotonic() + 60)
            login = requests.post(
                f"{base}/api/auth/token", json={"username": "seller", "password": PASSWORD}, timeout=10
            )
            login.raise_for_status()
            confirmed, statuses, elapsed = run_clients(
                base, login.json()["access"], holders, product, args.clients, args.seconds
            )
        finally:
            server.terminate()
            server.join(timeout=10)
        lost, double, problems = check_ledger(database_url, confirmed)

    purchases = sum(confirmed.values())
    unexpected = {status: n for status, n in statuses.items() if status != 201}
    verdict = "ok" if not (lost or double or problems) else "NOT ok"
    print(
        f"bar: {purchases / elapsed:.0f} purchases/s ({args.clients} clients, postgresql), "
        f"ledger {verdict}: {lost} lost, {double} double"
    )
    if unexpected:
        print(f"bar: answers other than 201: {unexpected}", file=sys.stderr)
    for problem in problems[:20]:
        print(f"bar: {problem}", file=sys.stderr)
    if verdict != "ok" or unexpected:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
