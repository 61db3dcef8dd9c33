"""Moving a wallet's money: every change is one conditional UPDATE plus one ledger row.

The UPDATE is the whole check: ``balance = balance - :amount WHERE balance -
:amount >= :minimum`` either happens or does not, in the caller's transaction,
so concurrent debits of one wallet can never take it below its minimum
(PostgreSQL locks the row for the rest of the transaction; SQLite's core
begins every transaction with BEGIN IMMEDIATE). The ledger row records the
same amount in the same transaction: balance and ledger change together or
not at all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from pyramidion.api import Conflict, money

from ..models import Holder, LedgerEntry, LedgerKind


class InsufficientBalance(Conflict):
    """409: the wallet would drop below its minimum balance."""

    def __init__(self, holder_id: int, amount: Decimal) -> None:
        self.holder_id = holder_id
        self.amount = amount
        super().__init__(
            f"insufficient balance: wallet {holder_id} cannot pay {amount:.2f}",
            [{"field": "holder_id", "message": "the wallet balance is too low"}],
        )


HOLDERS = Holder.__table__  # updated as a table: the ORM's bulk-update machinery would double the UPDATE's cost


def _new_balance(amount: Decimal) -> Any:
    # SQLite keeps NUMERIC as a binary float; rounding to cents on every change
    # keeps its arithmetic exact to the cent (on PostgreSQL it changes nothing).
    return func.round(HOLDERS.c.balance + amount, 2)


def _book(
    db: Any, holder_id: int, amount: Decimal, condition: Any, kind: LedgerKind, **entry: Any
) -> LedgerEntry | None:
    balance_after = db.execute(
        update(HOLDERS)
        .where(HOLDERS.c.id == holder_id, condition)
        .values(balance=_new_balance(amount))
        .returning(HOLDERS.c.balance)
    ).scalar()
    if balance_after is None:
        return None
    row = LedgerEntry(holder_id=holder_id, kind=kind, amount=amount, balance_after=balance_after, **entry)
    db.add(row)
    return row


def try_debit(
    db: Any, minimum: Decimal, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any
) -> LedgerEntry | None:
    """Take ``amount`` (> 0) from the wallet if it stays at or above ``minimum``; None if not."""
    return _book(db, holder_id, -amount, _new_balance(-amount) >= minimum, kind, **entry)


def debit(db: Any, minimum: Decimal, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any) -> LedgerEntry:
    """Take ``amount`` from the wallet or raise :class:`InsufficientBalance` (409)."""
    row = try_debit(db, minimum, holder_id, amount, kind, **entry)
    if row is None:
        raise InsufficientBalance(holder_id, amount)
    return row


def credit(db: Any, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any) -> LedgerEntry:
    """Add ``amount`` (> 0) to the wallet."""
    row = _book(db, holder_id, amount, HOLDERS.c.id == holder_id, kind, **entry)
    if row is None:
        raise LookupError(f"no wallet {holder_id}")
    return row


def ledger_mismatches(db: Any) -> list[tuple[int, Decimal, Decimal]]:
    """Wallets whose balance differs from the sum of their ledger: ``(holder id, balance, ledger sum)``."""
    sums = (
        select(LedgerEntry.holder_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.holder_id)
        .subquery()
    )
    rows = db.execute(
        select(Holder.id, Holder.balance, sums.c.total)
        .outerjoin(sums, sums.c.holder_id == Holder.id)
        .order_by(Holder.id)
    )
    # Compared in Python as Decimals: SQLite would compare its binary floats.
    return [
        (holder_id, balance, total)
        for holder_id, balance, total in ((h, money(b), money(t or 0)) for h, b, t in rows)
        if balance != total
    ]
