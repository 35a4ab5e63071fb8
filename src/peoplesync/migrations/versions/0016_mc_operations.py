"""Marketing Cloud operations: a unit's clicks webhook and CA file, report rows' change time,
write-back cursors per unit and kind, and the lease that keeps one pass per unit at a time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("mc_business_units") as batch:
        batch.add_column(sa.Column("clicks_webhook_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("ca_cert", sa.String(length=1000), nullable=True))
    op.add_column("message_reports", sa.Column("changed_at", _TIME, nullable=True))
    op.create_index("ix_message_reports_changed", "message_reports", ["changed_at"])
    op.create_table(
        "mc_sync_cursors",
        sa.Column("unit", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("unit", "kind"),
    )
    op.create_table(
        "mc_sync_leases",
        sa.Column("unit", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.Column("lease_until", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("unit"),
    )


def downgrade() -> None:
    op.drop_table("mc_sync_leases")
    op.drop_table("mc_sync_cursors")
    op.drop_index("ix_message_reports_changed", table_name="message_reports")
    op.drop_column("message_reports", "changed_at")
    with op.batch_alter_table("mc_business_units") as batch:
        batch.drop_column("ca_cert")
        batch.drop_column("clicks_webhook_url")
