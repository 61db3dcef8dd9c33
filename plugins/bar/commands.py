"""``pyramidion bar-check-ledger``: every wallet's balance must equal the sum of its ledger."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import func, select

from .models import Holder, LedgerEntry
from .wallet import ledger_mismatches


def check_ledger(args: argparse.Namespace) -> None:
    from pyramidion.cli import load

    registry = load(args.ini)
    db = registry.db_session_factory()
    try:
        mismatches = ledger_mismatches(db)
        wallets = db.scalar(select(func.count()).select_from(Holder))
        entries = db.scalar(select(func.count()).select_from(LedgerEntry))
    finally:
        db.close()
    for holder_id, balance, total in mismatches:
        print(f"wallet {holder_id}: balance {balance} but ledger sums to {total} (off by {balance - total})")
    if mismatches:
        print(f"ledger NOT ok: {len(mismatches)} of {wallets} wallet(s) disagree with their ledger")
        raise SystemExit(1)
    print(f"ledger ok: {wallets} wallet(s), {entries} entries, every balance equals its ledger")


def add_commands(subparsers: Any) -> None:
    from pyramidion.cli import ini_argument

    parser = subparsers.add_parser("bar-check-ledger", help="check that every bar wallet's balance equals its ledger")
    ini_argument(parser)
    parser.set_defaults(func=check_ledger)
