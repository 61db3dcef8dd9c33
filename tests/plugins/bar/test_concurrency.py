"""Concurrent wallet purchases over real HTTP: the minimum balance holds, nothing is lost or booked twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from waitress.server import create_server


@pytest.fixture
def server(app):
    """The test app behind a real waitress server on loopback."""
    served = create_server(app.app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{served.effective_port}"
    served.close()
    served.task_dispatcher.shutdown()


def test_concurrent_purchases_never_take_a_wallet_below_its_minimum(server, bar):
    staff = bar.staff()
    holder, member = bar.member("ann", "10.00")
    beer = bar.product("Beer", "0.75", stock="Keg")
    attempts = 30
    go = threading.Event()

    def buy(_: int) -> int:
        go.wait()  # every client starts at once
        with requests.Session() as http:
            body = {"payment_method": "wallet", "holder_id": holder, "lines": [{"product_id": beer, "quantity": 1}]}
            return http.post(f"{server}/api/bar/purchases", json=body, headers=staff, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = pool.map(buy, range(attempts))
        go.set()
        statuses = list(results)

    # 13 x 0.75 = 9.75 fits in 10.00; the 14th would go below zero.
    assert sorted(set(statuses)) == [201, 409]
    assert statuses.count(201) == 13
    assert bar.balance(holder) == Decimal("0.25")
    assert bar.ledger_ok()
    with requests.Session() as http:
        purchases = http.get(f"{server}/api/bar/purchases?limit=100", headers=member, timeout=10).json()
    assert purchases["count"] == 13
