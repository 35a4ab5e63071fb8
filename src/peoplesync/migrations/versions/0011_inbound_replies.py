"""Messaging reports as columns: inbound replies, delivery/seen report rows, stopped send keys,
and a CA file for a provider account.

``inbound_messages`` holds the Inbound Messages data extension's columns; ``message_reports``
one row a message with the SMS Delivery Reports / Omni Reports columns (``seen_at`` is Omni's).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("provider_accounts", sa.Column("ca_cert", sa.String(length=1000)))
    op.add_column("send_rates", sa.Column("stopped_at", _TIME))
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=50), nullable=False),
        sa.Column("recipient", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clean_text", sa.Text(), nullable=False),
        sa.Column("keyword", sa.String(length=100)),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("price_per_message", sa.Float()),
        sa.Column("currency", sa.String(length=5)),
        sa.Column("callback_data", sa.Text()),
        sa.Column("person_id", sa.String(length=32)),
        sa.Column("in_reply_to", sa.String(length=64)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "message_id", name="uq_inbound_messages_provider_id"),
    )
    op.create_index("ix_inbound_messages_received", "inbound_messages", ["received_at"])
    op.create_table(
        "message_reports",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("message_count", sa.Integer()),
        sa.Column("recipient", sa.String(length=50), nullable=False),
        sa.Column("sender", sa.String(length=50)),
        sa.Column("price_per_message", sa.Float()),
        sa.Column("currency", sa.String(length=5)),
        sa.Column("status_group_id", sa.Integer()),
        sa.Column("status_group_name", sa.String(length=50)),
        sa.Column("status_id", sa.Integer()),
        sa.Column("status_name", sa.String(length=50)),
        sa.Column("status_description", sa.String(length=100)),
        sa.Column("error_group_id", sa.Integer()),
        sa.Column("error_group_name", sa.String(length=50)),
        sa.Column("error_id", sa.Integer()),
        sa.Column("error_name", sa.String(length=50)),
        sa.Column("error_description", sa.String(length=1000)),
        sa.Column("error_permanent", sa.Boolean()),
        sa.Column("callback_data", sa.Text()),
        sa.Column("sent_at", _TIME),
        sa.Column("done_at", _TIME),
        sa.Column("seen_at", _TIME),
        sa.Column("original_mcc", sa.String(length=50)),
        sa.Column("original_mnc", sa.String(length=50)),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("message_reports")
    op.drop_index("ix_inbound_messages_received", table_name="inbound_messages")
    op.drop_table("inbound_messages")
    op.drop_column("send_rates", "stopped_at")
    op.drop_column("provider_accounts", "ca_cert")
