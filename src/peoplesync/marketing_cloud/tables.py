"""The Marketing Cloud tables, on the People database's one metadata (Alembic targets it)."""

from __future__ import annotations

import sqlalchemy as sa

from peoplesync.people.tables import Id, UtcDateTime, metadata

business_units = sa.Table(
    "mc_business_units",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(60), nullable=False, unique=True),
    sa.Column("mid", sa.String(20), nullable=False),
    sa.Column("client_id", sa.String(100), nullable=False),
    sa.Column("auth_url", sa.String(500), nullable=False),
    sa.Column("client_secret_sealed", sa.Text, nullable=False),
    sa.Column("jwt_secret_sealed", sa.Text),
    sa.Column("salt_key_sealed", sa.Text),
    sa.Column("default_account", sa.String(100)),
    sa.Column("short_domain", sa.String(253)),
    sa.Column("report_storage", sa.String(10), nullable=False, server_default="native"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("event_definition_key", sa.String(200)),  # fired when a reply comes in
    sa.Column("reports_webhook_url", sa.String(500)),  # external storage: delivery/seen rows
    sa.Column("inbound_webhook_url", sa.String(500)),  # external storage: replies
    sa.Column("clicks_webhook_url", sa.String(500)),  # external storage: tracked clicks
    sa.Column("ca_cert", sa.String(1000)),  # a CA file to trust (a private sandbox's)
    sa.UniqueConstraint("mid", name="uq_mc_business_units_mid"),
)

# What report write-back wrote: one mark per unit, report kind and row, with the fingerprint
# of the row as written (a row changed since, e.g. seen after delivered, is written again).
report_marks = sa.Table(
    "mc_report_marks",
    metadata,
    sa.Column("unit", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("fingerprint", sa.String(100), nullable=False),
    sa.Column("written_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint("unit", "kind", "key"),
)

# Messages sent by a journey that set triggerEventOnResponse: a reply fires an API event.
reply_triggers = sa.Table(
    "mc_reply_triggers",
    metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Where each unit's write-back stopped reading, per report kind: the newest change time of
# the rows it has written (the next pass re-reads a margin before it; the marks dedupe).
sync_cursors = sa.Table(
    "mc_sync_cursors",
    metadata,
    sa.Column("unit", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint("unit", "kind"),
)

# One write-back pass per unit at a time: the holder's lease, renewed page by page.
sync_leases = sa.Table(
    "mc_sync_leases",
    metadata,
    sa.Column("unit", sa.String(60), primary_key=True),
    sa.Column("holder", sa.String(32), nullable=False),
    sa.Column("lease_until", UtcDateTime, nullable=False),
)
