"""New messages into the outbox's table: the unique idempotency key decides which are new.

No lock and no read comes first: ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING``
stores the rows whose key is not stored yet and returns their ids; a key another
transaction holds uncommitted makes the insert wait for it. The caller inserts rows in key
order, so concurrent batches wait for each other's keys in one order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.messaging.tables import message_events, outbound_messages
from peoplesync.people.tables import Json, UtcDateTime


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
AT_ONCE = 1_000  # the most messages one statement stores (17 parameters each, of 65,535)


async def insert_new(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert the rows whose key is not stored; returns the ids inserted."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    inserted = await conn.execute(
        insert(_m).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(_m.c.id),
        list(rows),
    )
    return {found[0] for found in inserted}


async def insert_with_events(
    conn: AsyncConnection, rows: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
) -> set[str]:
    """PostgreSQL: the new rows and the events of those inserted in one statement (a round
    trip; atomic on its own, so it may run outside a transaction). ``events`` name their
    message by ``message_id``; returns the ids inserted. At most ``AT_ONCE`` rows."""
    assert len(rows) <= AT_ONCE
    stored = (
        postgresql.insert(_m)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_m.c.id)
        .cte("stored")
    )
    given = sa.values(
        sa.column("message_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("at", UtcDateTime),
        sa.column("detail", Json),
        name="given",
    ).data([(e["message_id"], e["kind"], e["at"], e["detail"]) for e in events])
    chosen = sa.select(given.c.message_id, given.c.kind, given.c.at, given.c.detail).join(
        stored, stored.c.id == given.c.message_id
    )
    added = await conn.execute(
        sa.insert(_e)
        .from_select(["message_id", "kind", "at", "detail"], chosen)
        .returning(_e.c.message_id)
    )
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
