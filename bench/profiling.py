"""Profile one endpoint in process, without a server or a load generator in the way.

    PYTHONWARNINGS=ignore .venv/bin/python -m bench.profiling [list|detail|me|health|purchase] [--requests 2000]
                                                            [--database sqlite|postgresql] [--issue17] [--pyinstrument]

Seeds 30 tasks with two performers, 20 comments on one, through the API
(WebTest), or with ``--issue17`` the data of ``python -m bench http``, then calls the
endpoint ``--requests`` times and prints the SQL statements one request runs,
requests/s of one thread and CPU time per request (steadier than requests/s on
a shared machine); ``--pyinstrument`` prints where the time went.

``purchase`` instead serves the tasks and bar plugins with ``python -m bench.bar``'s
seller, product and 64 funded wallets (:func:`bench.bar.arrange`) and posts wallet
purchases, one product each, from the wallets in turn (use ``--database postgresql``,
as ``bench.bar`` does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from webtest import TestApp

from pyramidion import make_app
from pyramidion.testing import recorded_statements

from .common import app_settings, scratch_database
from .setup import COMMENTS, PASSWORD, bulk_tasks, migrated

PATHS = {
    "list": "/api/tasks?limit=10",
    "detail": "/api/tasks/{task_id}",
    "me": "/api/auth/me",
    "health": "/api/health",
    "purchase": "/api/bar/purchases",
}


def seeded_app(database_url: str, issue17: bool = False) -> tuple[TestApp, dict[str, str], int]:
    """The tasks app with 30 tasks, 20 comments on the last, or (``issue17``) figure 1's data
    (:func:`bench.setup.seed_tasks`): (app, headers of the caller, id of a task with comments)."""
    settings = app_settings(
        database_url, **{"pyramidion.plugins.enabled": "tasks", "mail.port": "1", "mail.retries": "0"}
    )
    migrated(settings)
    app = TestApp(make_app(settings))

    def login(name: str) -> tuple[dict[str, str], int]:
        app.post_json("/api/auth/register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
        token = app.post_json("/api/auth/token", {"username": name, "password": PASSWORD}).json["access"]
        headers = {"Authorization": f"Bearer {token}"}
        return headers, app.get("/api/auth/me", headers=headers).json["id"]

    headers, creator = login("bench")
    performers = [login(name)[1] for name in ("pia", "per")]
    due = dt.date.today() + dt.timedelta(days=30)
    if issue17:
        body = {"name": "task 0", "due_date": due.isoformat(), "performer_ids": performers}
        task_id = app.post_json("/api/tasks", body, headers=headers).json["id"]
        for number in range(COMMENTS):
            app.post_json(f"/api/tasks/{task_id}/comments", {"text": f"comment {number}"}, headers=headers)
        bulk_tasks(database_url, creator, performers, due)
        return app, headers, app.get(PATHS["list"], headers=headers).json["results"][0]["id"]
    for number in range(30):
        body = {
            "name": f"task {number}",
            "due_date": (due + dt.timedelta(days=number)).isoformat(),
            "performer_ids": performers,
        }
        task_id = app.post_json("/api/tasks", body, headers=headers).json["id"]
    for number in range(20):
        app.post_json(f"/api/tasks/{task_id}/comments", {"text": f"comment {number}"}, headers=headers)
    return app, headers, task_id


def purchase_app(database_url: str) -> tuple[TestApp, Callable[[], Any]]:
    """bench.bar's app and data: (app, a call that makes one wallet purchase as the seller)."""
    from .bar import PASSWORD as SELLER_PASSWORD
    from .bar import arrange, bar_settings

    settings = bar_settings(database_url)
    holders, product = arrange(settings, 64)
    app = TestApp(make_app(settings))
    token = app.post_json("/api/auth/token", {"username": "seller", "password": SELLER_PASSWORD}).json["access"]
    headers = {"Authorization": f"Bearer {token}"}
    turn = itertools.cycle(holders)

    def buy() -> Any:
        body = {"payment_method": "wallet", "holder_id": next(turn), "lines": [{"product_id": product, "quantity": 1}]}
        return app.post_json(PATHS["purchase"], body, headers=headers, status=201)

    return app, buy


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", choices=PATHS, nargs="?", default="list")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--issue17",
        action="store_true",
        help="python -m bench http's data: 1,000 tasks, 3 comments each (default: 30 tasks, 20 comments on one)",
    )
    parser.add_argument("--pyinstrument", action="store_true", help="print pyinstrument's profile of the calls")
    parser.add_argument("--all", action="store_true", help="show library frames in the profile too")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the seeding's notifications fail for want of a mail server, by design
    with scratch_database(args.database) as url:
        if args.endpoint == "purchase":
            app, call = purchase_app(url)
        else:
            app, headers, task_id = seeded_app(url, args.issue17)
            path = PATHS[args.endpoint].format(task_id=task_id)
            if args.endpoint == "health":
                headers = {}

            def call() -> Any:
                return app.get(path, headers=headers)

        for _ in range(50):  # warm-up: caches, connection pool
            call()
        with recorded_statements(app.app.registry.db_engine) as ran:
            call()
        for number, sql in enumerate(ran, 1):
            print(f"  SQL {number}: {' '.join(sql.split())[:120]}")
        profiler = None
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            call()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(color=False, show_all=args.all))
        print(
            f"profile {args.endpoint} ({args.database}{', issue 17 data' if args.issue17 else ''}): {args.requests / elapsed:.0f} requests/s in one thread, in process; "
            f"{cpu / args.requests * 1000:.2f} ms of this process's CPU per request"
        )
        app.app.registry.db_engine.dispose()


if __name__ == "__main__":
    main()
