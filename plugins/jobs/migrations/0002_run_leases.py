"""run leases: a running run's worker renews its lease; the hosts it chose are kept for when the worker is lost

Revision ID: jobs_0002
Revises: jobs_0001
"""

from __future__ import annotations

import sqlalchemy as sa

import pyramidion.db
from alembic import op

revision = "jobs_0002"
down_revision = "jobs_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A run running now has no lease: the first look for lost runs takes its worker
    # for gone (a worker of the version before never renews one).
    with op.batch_alter_table("jobs_run") as batch:
        batch.add_column(sa.Column("lease_expires_at", pyramidion.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("selected_hosts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs_run") as batch:
        batch.drop_column("selected_hosts")
        batch.drop_column("lease_expires_at")
