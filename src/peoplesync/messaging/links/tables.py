"""The short-link tables, on the People database's one metadata (Alembic targets it)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from peoplesync.people.tables import UtcDateTime, metadata


def _now() -> datetime:
    return datetime.now(UTC)


CODE_COLUMN_LENGTH = 16

short_links = sa.Table(
    "short_links",
    metadata,
    sa.Column("code", sa.String(CODE_COLUMN_LENGTH), primary_key=True),  # the redirect's one lookup
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("base", sa.String(300), nullable=False),
    sa.Column("tracked", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("message_id", "position", name="uq_short_links_message_position"),
)

# One row a click, with the columns of Marketing Cloud's "Unified URL Tracking" data extension.
link_clicks = sa.Table(
    "link_clicks",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("code", sa.String(CODE_COLUMN_LENGTH)),  # none: the provider's own short link
    sa.Column("notification_type", sa.String(50), nullable=False, server_default="CLICKED"),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("recipient", sa.String(50)),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("clicked_at", UtcDateTime, nullable=False),  # the data extension's sendDateTime
    sa.Column("device_type", sa.String(50), nullable=False),
    sa.Column("os", sa.String(50)),
    sa.Column("device_name", sa.String(50)),
    sa.Column("user_agent", sa.String(500)),
    sa.Column("callback_data", sa.Text),
    sa.Column("channel", sa.String(50)),
    # A provider's click report: the same click posted again has the same key.
    sa.Column("report_key", sa.String(40)),
    # when the row was stored (a provider may report a click hours late): write-back's cursor
    sa.Column("stored_at", UtcDateTime, default=_now),
    sa.UniqueConstraint("report_key", name="uq_link_clicks_report_key"),
    sa.Index("ix_link_clicks_message", "message_id", "id"),
    sa.Index("ix_link_clicks_time", "clicked_at"),
    sa.Index("ix_link_clicks_stored", "stored_at"),
)
