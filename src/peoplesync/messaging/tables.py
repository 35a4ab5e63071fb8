"""The messaging tables, on the People database's one metadata (Alembic targets it)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from peoplesync.people.tables import Id, Json, UtcDateTime, metadata


def _now() -> datetime:
    return datetime.now(UTC)


provider_accounts = sa.Table(
    "provider_accounts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("base_url", sa.String(500), nullable=False),
    sa.Column("api_key_sealed", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("ca_cert", sa.String(1000)),  # a CA file to trust (a private sandbox's)
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
    sa.Column("stopped_at", UtcDateTime),  # the journey stopped: no new messages for this key
)

# The Inbound Messages data extension: one row a reply, linked to its person and conversation.
inbound_messages = sa.Table(
    "inbound_messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("message_id", sa.String(100), nullable=False),  # the provider's
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("sender", sa.String(50), nullable=False),  # "from": the handset
    sa.Column("recipient", sa.String(50), nullable=False),  # "to": our number
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("clean_text", sa.Text, nullable=False),
    sa.Column("keyword", sa.String(100)),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("message_count", sa.Integer, nullable=False),
    sa.Column("price_per_message", sa.Float),
    sa.Column("currency", sa.String(5)),
    sa.Column("callback_data", sa.Text),
    sa.Column("person_id", Id),
    sa.Column("in_reply_to", sa.String(64)),  # the last message we sent that number
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("account", "message_id", name="uq_inbound_messages_provider_id"),
    sa.Index("ix_inbound_messages_received", "received_at"),
)

# SMS Delivery Reports / Omni Reports: one row a message, the data extensions' columns.
message_reports = sa.Table(
    "message_reports",
    metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("message_count", sa.Integer),
    sa.Column("recipient", sa.String(50), nullable=False),
    sa.Column("sender", sa.String(50)),
    sa.Column("price_per_message", sa.Float),
    sa.Column("currency", sa.String(5)),
    sa.Column("status_group_id", sa.Integer),
    sa.Column("status_group_name", sa.String(50)),
    sa.Column("status_id", sa.Integer),
    sa.Column("status_name", sa.String(50)),
    sa.Column("status_description", sa.String(100)),
    sa.Column("error_group_id", sa.Integer),
    sa.Column("error_group_name", sa.String(50)),
    sa.Column("error_id", sa.Integer),
    sa.Column("error_name", sa.String(50)),
    sa.Column("error_description", sa.String(1000)),
    sa.Column("error_permanent", sa.Boolean),
    sa.Column("callback_data", sa.Text),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("done_at", UtcDateTime),
    sa.Column("seen_at", UtcDateTime),
    sa.Column("original_mcc", sa.String(50)),
    sa.Column("original_mnc", sa.String(50)),
    # set on every insert and update: report write-back reads the rows changed since its last pass
    sa.Column("changed_at", UtcDateTime, default=_now, onupdate=_now),
    sa.Index("ix_message_reports_changed", "changed_at"),
)
