"""The People store's tables (SQLAlchemy Core); migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:  # most values are UTC already: no conversion for them
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


Id = sa.String(32)

# Indexes the migrations make in raw SQL: lower-cased expressions for the People search and
# list filters, with PostgreSQL's pattern operator class (0004, 0005, 0007). Alembic cannot
# compare expression indexes, so the schema check leaves these out by name.
RAW_SQL_INDEXES = frozenset(
    {
        "ix_persons_first_name_lower",
        "ix_persons_last_name_lower",
        "ix_persons_full_name_lower",
        "ix_person_emails_key_pattern",
        "ix_persons_status_lower_id",
        "ix_persons_company_lower_id",
        "ix_persons_city_lower_id",
        "ix_persons_country_lower_id",
    }
)

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("website_domain", sa.String(255), index=True),
    sa.Column("industry", sa.String(255)),
    sa.Column("employees", sa.Integer),
    sa.Column("revenue", sa.String(40)),
    sa.Column("country", sa.String(100)),
    sa.Column("owner", sa.String(255)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

persons = sa.Table(
    "persons",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("first_name", sa.String(255)),
    sa.Column("last_name", sa.String(255)),
    sa.Column("company", sa.String(255)),
    sa.Column("title", sa.String(255)),
    sa.Column("country", sa.String(100)),
    sa.Column("city", sa.String(100)),
    sa.Column("address", sa.String(1000)),
    sa.Column("gender", sa.String(20)),
    sa.Column("birth_date", sa.String(10)),
    sa.Column("preferred_language", sa.String(35)),
    sa.Column("lead_source", sa.String(255)),
    sa.Column("status", sa.String(255)),
    sa.Column("company_id", Id, sa.ForeignKey("companies.id", ondelete="SET NULL"), index=True),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

person_emails = sa.Table(
    "person_emails",
    metadata,
    sa.Column("person_id", Id, sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.PrimaryKeyConstraint("person_id", "position"),
)

person_phones = sa.Table(
    "person_phones",
    metadata,
    sa.Column("person_id", Id, sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False),
    sa.Column("number", sa.String(20), nullable=False, index=True),
    sa.PrimaryKeyConstraint("person_id", "position"),
)

attribute_definitions = sa.Table(
    "attribute_definitions",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("mandatory", sa.Boolean, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

external_links = sa.Table(
    "external_links",
    metadata,
    sa.Column("system", sa.String(100), nullable=False),
    sa.Column("object", sa.String(100), nullable=False),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("entity_type", sa.String(20), nullable=False),
    sa.Column("entity_id", Id, nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Column("synced_at", UtcDateTime),
    sa.PrimaryKeyConstraint("system", "object", "external_id"),
    sa.Index("ix_external_links_entity", "entity_type", "entity_id"),
)

timeline_events = sa.Table(
    "timeline_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Index("ix_timeline_person_time", "person_id", "occurred_at"),
)

change_log = sa.Table(
    "change_log",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("entity_type", sa.String(20), nullable=False),
    sa.Column("entity_id", Id, nullable=False),
    sa.Column("operation", sa.String(10), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(200), nullable=False),
    sa.Column("changes", Json, nullable=False),
    sa.Index("ix_change_log_entity", "entity_type", "entity_id"),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# A push's create attempts: the values sent for a person, saved before they are sent and
# dropped once its link is committed (``sync.outbound.attempts``); migration 0019.
push_create_attempts = sa.Table(
    "push_create_attempts",
    metadata,
    sa.Column("system", sa.String(200), primary_key=True),
    sa.Column("person_id", Id, primary_key=True),
    sa.Column("object", sa.String(40), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("sent", Json, nullable=False),
)

# A push's update attempts: the values sent to a linked record, saved before they are sent
# (merged over an earlier attempt's) and forgotten field by field once their outcome is known
# (``sync.outbound.sent_updates``); migration 0020.
push_sent_updates = sa.Table(
    "push_sent_updates",
    metadata,
    sa.Column("system", sa.String(200), primary_key=True),
    sa.Column("record_id", sa.String(100), primary_key=True),
    sa.Column("object", sa.String(40), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("sent", Json, nullable=False),
)

# --- integration status (statistics and logs; never part of a data transaction) -----------

sync_status = sa.Table(
    "sync_status",
    metadata,
    sa.Column("integration", sa.String(100), primary_key=True),
    sa.Column("state", sa.String(30), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("since", UtcDateTime),
    sa.Column("until", UtcDateTime),
    sa.Column("api_share", sa.Float, nullable=False),
    sa.Column("last_sync", Json, nullable=False),
)

sync_counters = sa.Table(
    "sync_counters",
    metadata,
    sa.Column("integration", sa.String(100), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("step", sa.String(100), nullable=False),
    sa.Column("created", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("api_calls", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("integration", "day", "step"),
)

sync_problems = sa.Table(
    "sync_problems",
    metadata,
    sa.Column("integration", sa.String(100), nullable=False),
    sa.Column("step", sa.String(100), nullable=False),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("record_id", sa.String(100), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("field", sa.String(255), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("hint", sa.Text, nullable=False),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("integration", "step", "code", "record_id"),
)

sync_operations = sa.Table(
    "sync_operations",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("integration", sa.String(100), nullable=False),
    sa.Column("operation", sa.String(30), nullable=False),
    sa.Column("object", sa.String(100), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_sync_operations_integration_at", "integration", "at"),
)

# --- saved segments (named person filters) ---------------------------------------------------

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("query", sa.String(200), nullable=False),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# --- transfers started from the web (progress survives reloads and restarts) ----------------

transfer_jobs = sa.Table(
    "transfer_jobs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("integration", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("options", Json, nullable=False),
    sa.Column("progress", Json, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("started_by", sa.String(320), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Index("ix_transfer_jobs_integration_started", "integration", "started_at"),
)
