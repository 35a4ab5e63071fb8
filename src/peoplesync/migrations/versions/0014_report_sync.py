"""Report write-back: a unit's webhooks and event definition, marks of rows written, messages
whose journey fires an API event on a reply.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("mc_business_units") as batch:
        batch.add_column(sa.Column("event_definition_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("reports_webhook_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("inbound_webhook_url", sa.String(length=500), nullable=True))
    op.create_table(
        "mc_report_marks",
        sa.Column("unit", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), nullable=False),
        sa.Column("written_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("unit", "kind", "key"),
    )
    op.create_table(
        "mc_reply_triggers",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("mc_reply_triggers")
    op.drop_table("mc_report_marks")
    with op.batch_alter_table("mc_business_units") as batch:
        batch.drop_column("inbound_webhook_url")
        batch.drop_column("reports_webhook_url")
        batch.drop_column("event_definition_key")
