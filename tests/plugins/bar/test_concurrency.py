"""Concurrent wallet purchases over real HTTP: the minimum balance holds, nothing is lost or booked twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from pyramidion_bar.models import LedgerEntry, LedgerKind, Stock


@pytest.fixture
def server(make_live_server):
    """The platform behind a real waitress server on loopback, on the test database, 8 requests at once."""
    return make_live_server(threads=8).url


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


def test_concurrent_sales_from_many_wallets_book_each_once_and_take_stock_exactly(server, bar, in_transaction):
    """Wallet, cash and refused sales at once, from threads with connections of their own: every
    confirmed debit is in the ledger once, every balance is its ledger, the keg loses what was sold."""
    staff = bar.staff()
    wallets = [bar.member(f"member{n}", "5.00")[0] for n in range(4)]
    beer = bar.product("Beer", "1.50", units="0.5", stock="Keg")  # the keg starts at 100
    go = threading.Event()

    def sell(attempt: int) -> tuple[int, int | None, int]:
        holder = wallets[attempt % len(wallets)]
        paid_in_cash = attempt % 5 == 0
        body = {
            "payment_method": "cash" if paid_in_cash else "wallet",
            "holder_id": holder,
            "lines": [{"product_id": beer, "quantity": 1}],
        }
        go.wait()
        with requests.Session() as http:
            status = http.post(f"{server}/api/bar/purchases", json=body, headers=staff, timeout=30).status_code
        return status, None if paid_in_cash else holder, attempt

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = pool.map(sell, range(40))
        go.set()
        outcomes = list(results)

    sold = [(holder, attempt) for status, holder, attempt in outcomes if status == 201]
    refused = [status for status, _, _ in outcomes if status != 201]
    assert set(refused) <= {409}
    debits = {holder: sum(1 for h, _ in sold if h == holder) for holder in wallets}
    # 5.00 pays three beers of 1.50 and no fourth: each wallet sells exactly three of its eight tries.
    assert debits == dict.fromkeys(wallets, 3)
    assert [bar.balance(holder) for holder in wallets] == [Decimal("0.50")] * len(wallets)
    assert bar.ledger_ok()
    booked = in_transaction(
        lambda db: db.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == LedgerKind.purchase)
        )
    )
    assert booked == 12
    keg = in_transaction(lambda db: db.scalar(select(Stock.quantity).where(Stock.name == "Keg")))
    assert Decimal(keg) == Decimal("100") - Decimal("0.5") * len(sold)  # 8 cash sales and 12 from wallets
    assert len(sold) == 20
