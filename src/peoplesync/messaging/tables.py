"""The messaging tables, on the People database's one metadata (Alembic targets it)."""

from __future__ import annotations

import sqlalchemy as sa

from peoplesync.people.tables import Id, Json, UtcDateTime, metadata

provider_accounts = sa.Table(
    "provider_accounts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("base_url", sa.String(500), nullable=False),
    sa.Column("api_key_sealed", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

provider_senders = sa.Table(
    "provider_senders",
    metadata,
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("sender", sa.String(50), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the first of a channel is its default
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint("account", "channel", "sender"),
)

outbound_messages = sa.Table(
    "outbound_messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(20), nullable=False),
    sa.Column("request", Json, nullable=False),
    sa.Column("callback_data", sa.Text),
    sa.Column("limit_key", sa.String(200)),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("status", sa.String(100), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("send_after", UtcDateTime, nullable=False),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("claimed_by", sa.String(32)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("provider_status", sa.String(60)),
    sa.Column("person_id", Id),
    sa.Index("ix_outbound_messages_due", "state", "send_after"),
    sa.Index("ix_outbound_messages_created", "created_at"),
)

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("detail", Json, nullable=False),
    sa.Index("ix_message_events_message", "message_id", "id"),
)

send_rates = sa.Table(
    "send_rates",
    metadata,
    sa.Column("limit_key", sa.String(200), primary_key=True),
    sa.Column("next_free", UtcDateTime, nullable=False),
)
