"""Messaging: provider accounts, the outbound message queue, message events, send rates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "provider_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("api_key_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("request", _JSON, nullable=False),
        sa.Column("callback_data", sa.Text()),
        sa.Column("limit_key", sa.String(length=200)),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("send_after", _TIME, nullable=False),
        sa.Column("lease_until", _TIME),
        sa.Column("claimed_by", sa.String(length=32)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME),
        sa.Column("provider_status", sa.String(length=60)),
        sa.Column("person_id", sa.String(length=32)),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_outbound_messages_due", "outbound_messages", ["state", "send_after"])
    op.create_index("ix_outbound_messages_created", "outbound_messages", ["created_at"])
    op.create_table(
        "message_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("detail", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_message_events_message", "message_events", ["message_id", "id"])
    op.create_table(
        "send_rates",
        sa.Column("limit_key", sa.String(length=200), nullable=False),
        sa.Column("next_free", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("limit_key"),
    )


def downgrade() -> None:
    op.drop_table("send_rates")
    op.drop_index("ix_message_events_message", table_name="message_events")
    op.drop_table("message_events")
    op.drop_index("ix_outbound_messages_created", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_due", table_name="outbound_messages")
    op.drop_table("outbound_messages")
    op.drop_table("provider_accounts")
