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

from sqlalchemy import Integer, bindparam, func, insert, select, text, update

from pyramidion.api import Conflict, money
from pyramidion.db import UTCDateTime

from ..models import MONEY, Holder, LedgerEntry, LedgerKind, Purchase


class InsufficientBalance(Conflict):
    """409: the wallet would drop below its minimum balance."""

    def __init__(self, holder_id: int, amount: Decimal) -> None:
        self.holder_id = holder_id
        self.amount = amount
        super().__init__(
            f"insufficient balance: wallet {holder_id} cannot pay {amount:.2f}",
            [{"field": "holder_id", "message": "the wallet balance is too low"}],
        )


# As tables: the ORM's bulk-update machinery would double an UPDATE's cost.
HOLDERS = Holder.__table__
LEDGER = LedgerEntry.__table__
PURCHASES = Purchase.__table__

# SQLite keeps NUMERIC as a binary float; rounding to cents on every change
# keeps its arithmetic exact to the cent (on PostgreSQL it changes nothing).
_NEW_BALANCE = func.round(HOLDERS.c.balance + bindparam("amount", type_=MONEY), 2)
# Built once: building a statement and deriving its cache key cost about as much as running it.
_CREDIT = (
    update(HOLDERS)
    .where(HOLDERS.c.id == bindparam("holder_id"))
    .values(balance=_NEW_BALANCE)
    .returning(HOLDERS.c.balance)
)
_DEBIT = _CREDIT.where(bindparam("minimum", type_=MONEY) <= _NEW_BALANCE)
_LEDGER_ROW = insert(LEDGER)


# A purchase's row, its id returned: try_pay's, and the sale's for the other payment methods (.sales).
NEW_PURCHASE = insert(PURCHASES).returning(PURCHASES.c.id)
# A purchase paid from its wallet (try_pay) writes three rows: the purchase's,
# the debit and its ledger row. On PostgreSQL all three are one statement
# (data-modifying CTEs): two round trips fewer on the busiest write. The debit
# is _DEBIT, without the rounding (PostgreSQL's NUMERIC is exact); when it is
# refused the CTEs insert nothing and the statement returns no row.
_WALLET_SALE_POSTGRESQL = (
    text(
        """
        WITH debit AS (
            UPDATE bar_holder SET balance = balance - :total
            WHERE id = :holder_id AND balance - :total >= :minimum
            RETURNING balance
        ), purchase AS (
            INSERT INTO bar_purchase (holder_id, seller_id, payment_method, total, created_at)
            SELECT :holder_id, :seller_id, 'wallet', :total, :created_at FROM debit
            RETURNING id
        )
        INSERT INTO bar_ledger_entry
            (holder_id, kind, amount, balance_after, comment, created_by_id, created_at, purchase_id)
        SELECT :holder_id, 'purchase', -:total, debit.balance, '', :user_id, :created_at, purchase.id
        FROM debit, purchase
        RETURNING purchase_id, balance_after
        """
    )
    .bindparams(
        bindparam("total", type_=MONEY), bindparam("minimum", type_=MONEY), bindparam("created_at", type_=UTCDateTime)
    )
    .columns(purchase_id=Integer, balance_after=MONEY)
)


def try_pay(db: Any, minimum: Decimal, purchase: dict[str, Any], created_by_id: int) -> tuple[int, Decimal] | None:
    """Insert ``purchase`` (the values of its ``bar_purchase`` row) paid from its wallet, with the ledger row.

    Returns (the purchase's id, the wallet's balance after it), or None when
    the wallet would drop below ``minimum`` or does not exist; then nothing
    is inserted.
    """
    if db.get_bind().dialect.name == "postgresql":
        paid = db.execute(_WALLET_SALE_POSTGRESQL, {**purchase, "minimum": minimum, "user_id": created_by_id}).first()
        return None if paid is None else (paid.purchase_id, paid.balance_after)
    holder_id, total = purchase["holder_id"], purchase["total"]
    balance_after = db.execute(_DEBIT, {"holder_id": holder_id, "amount": -total, "minimum": minimum}).scalar()
    if balance_after is None:
        return None
    purchase_id = db.execute(NEW_PURCHASE, purchase).scalar_one()
    db.execute(
        _LEDGER_ROW,
        {
            "holder_id": holder_id,
            "kind": LedgerKind.purchase,
            "amount": -total,
            "balance_after": balance_after,
            "created_by_id": created_by_id,
            "created_at": purchase["created_at"],
            "purchase_id": purchase_id,
        },
    )
    return purchase_id, balance_after


def _book(db: Any, change: Any, params: dict[str, Any], kind: LedgerKind, **entry: Any) -> LedgerEntry | None:
    balance_after = db.execute(change, params).scalar()
    if balance_after is None:
        return None
    row = LedgerEntry(
        holder_id=params["holder_id"], kind=kind, amount=params["amount"], balance_after=balance_after, **entry
    )
    db.add(row)
    return row


def try_debit(
    db: Any, minimum: Decimal, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any
) -> LedgerEntry | None:
    """Take ``amount`` (> 0) from the wallet if it stays at or above ``minimum``; None if not."""
    return _book(db, _DEBIT, {"holder_id": holder_id, "amount": -amount, "minimum": minimum}, kind, **entry)


def debit(db: Any, minimum: Decimal, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any) -> LedgerEntry:
    """Take ``amount`` from the wallet or raise :class:`InsufficientBalance` (409)."""
    row = try_debit(db, minimum, holder_id, amount, kind, **entry)
    if row is None:
        raise InsufficientBalance(holder_id, amount)
    return row


def credit(db: Any, holder_id: int, amount: Decimal, kind: LedgerKind, **entry: Any) -> LedgerEntry:
    """Add ``amount`` (> 0) to the wallet."""
    row = _book(db, _CREDIT, {"holder_id": holder_id, "amount": amount}, kind, **entry)
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
