"""``pyramidion bar-check-ledger``: every wallet's balance must equal the sum of its ledger."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import func, select

from pyramidion.commands import in_transaction, ini_argument, load

from .models import Holder, LedgerEntry
from .services.wallet import ledger_mismatches


def _ledger_state(db: Any) -> tuple[list[tuple[int, Any, Any]], int, int]:
    wallets = db.scalar(select(func.count()).select_from(Holder))
    entries = db.scalar(select(func.count()).select_from(LedgerEntry))
    return ledger_mismatches(db), wallets, entries


def check_ledger(args: argparse.Namespace) -> None:
    mismatches, wallets, entries = in_transaction(load(args.ini), _ledger_state)
    for holder_id, balance, total in mismatches:
        print(f"wallet {holder_id}: balance {balance} but ledger sums to {total} (off by {balance - total})")
    if mismatches:
        print(f"ledger NOT ok: {len(mismatches)} of {wallets} wallet(s) disagree with their ledger")
        raise SystemExit(1)
    print(f"ledger ok: {wallets} wallet(s), {entries} entries, every balance equals its ledger")


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("bar-check-ledger", help="check that every bar wallet's balance equals its ledger")
    ini_argument(parser)
    parser.set_defaults(func=check_ledger)
