"""New messages into the outbox's table: the unique idempotency key decides which are new.

No lock and no read comes first: ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING``
stores the rows whose key is not stored yet and returns their ids; a key another
transaction holds uncommitted makes the insert wait for it. The caller inserts rows in key
order, so concurrent batches wait for each other's keys in one order and cannot deadlock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.messaging.tables import message_events, outbound_messages


@dataclass(frozen=True)
class MessageDraft:
    """What a caller asks to send: once per idempotency key."""

    idempotency_key: str
    account: str
    channel: str
    request: Mapping[str, object]
    callback_data: str | None = None
    person_id: str | None = None


@dataclass(frozen=True)
class Enqueued:
    """A draft's fate: its message id and status (``Success: Message pending`` or an error)."""

    message_id: str
    status: str
    field: str | None
    detail: str
    duplicate: bool


_m = outbound_messages
_e = message_events


async def insert_new(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert the rows whose key is not stored; returns the ids inserted."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    inserted = await conn.execute(
        insert(_m).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(_m.c.id),
        list(rows),
    )
    return {found[0] for found in inserted}


# Columns of a new message, as unnest() takes them: one array a column, so the statement's
# text and parameters are the same for any number of rows (parsed and planned alike).
_COLUMNS = (
    ("id", "text"),
    ("idempotency_key", "text"),
    ("account", "text"),
    ("channel", "text"),
    ("recipient", "text"),
    ("request", "jsonb"),
    ("callback_data", "text"),
    ("limit_key", "text"),
    ("state", "text"),
    ("status", "text"),
    ("detail", "text"),
    ("attempts", "int"),
    ("send_after", "timestamptz"),
    ("created_at", "timestamptz"),
    ("person_id", "text"),
)
_NAMES = ", ".join(column for column, _ in _COLUMNS)
_ARRAYS = ", ".join(f"%({column})s::{kind}[]" for column, kind in _COLUMNS)
_AT_ONCE_SQL = f"""WITH stored AS (INSERT INTO outbound_messages ({_NAMES})
SELECT * FROM unnest({_ARRAYS})
ON CONFLICT (idempotency_key) DO NOTHING RETURNING id)
INSERT INTO message_events (message_id, kind, at, detail)
SELECT e.message_id, e.kind, %(event_at)s, e.detail
FROM unnest(%(event_message)s::text[], %(event_kind)s::text[], %(event_detail)s::jsonb[])
AS e(message_id, kind, detail) JOIN stored ON stored.id = e.message_id
RETURNING message_id"""


async def insert_with_events(
    conn: AsyncConnection,
    rows: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    at: datetime,
) -> set[str]:
    """PostgreSQL: the new rows and the events (at ``at``) of those inserted, in one
    statement: one round trip, atomic on its own, so it may run outside a transaction.
    ``events`` name their message by ``message_id``; returns the ids inserted."""
    params: dict[str, Any] = {
        column: [row[column] for row in rows] for column, _ in _COLUMNS if column != "request"
    }
    params["request"] = [json.dumps(row["request"]) for row in rows]
    params["event_at"] = at
    params["event_message"] = [event["message_id"] for event in events]
    params["event_kind"] = [event["kind"] for event in events]
    params["event_detail"] = [json.dumps(event["detail"]) for event in events]
    added = await conn.exec_driver_sql(_AT_ONCE_SQL, params)
    return {found[0] for found in added}


async def stored_messages(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, Enqueued]:
    """The stored messages of ``keys``, as a retried draft's answers."""
    found = await conn.execute(
        sa.select(_m.c.idempotency_key, _m.c.id, _m.c.status, _m.c.detail).where(
            _m.c.idempotency_key.in_(keys)
        )
    )
    return {
        key: Enqueued(message_id, status, None, detail, duplicate=True)
        for key, message_id, status, detail in found
    }
