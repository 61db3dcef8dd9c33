"""Till reports of a third kind, "middle": a count while the bar is open.

Revision ID: bar_0002
Revises: bar_0001
"""

from __future__ import annotations

from alembic import op

revision = "bar_0002"
down_revision = "bar_0001"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_bar_report_bar_report_action"
OLD = "'open', 'close'"
NEW = "'open', 'close', 'middle'"


def _sqlite_set_check(old: str, new: str) -> None:
    # Recreating bar_report (Alembic's batch mode) would drop a table that
    # bar_cycle references ON DELETE RESTRICT, which SQLite refuses even
    # with deferred foreign keys. Loosening a CHECK constraint needs no
    # change on disk, so SQLite's documented procedure for it applies:
    # rewrite the table's SQL in the schema and bump the schema version
    # (https://www.sqlite.org/lang_altertable.html#otheralter).
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'bar_report'").scalar()
    if sql.count(old) != 1:
        raise RuntimeError(f"bar_report's action constraint is not the expected ({old}): {sql}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'bar_report'", (sql.replace(old, new),)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _set_check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_set_check(old, new)
        return
    op.drop_constraint(op.f(CONSTRAINT), "bar_report", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "bar_report", f"action IN ({new})")


def upgrade() -> None:
    _set_check(OLD, NEW)


def downgrade() -> None:
    op.execute("DELETE FROM bar_report WHERE action = 'middle'")
    _set_check(NEW, OLD)
