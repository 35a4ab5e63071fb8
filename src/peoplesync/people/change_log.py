"""The change log: written in the same transaction as each change, read in sequence order."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.change_signal import announce
from peoplesync.people.model import Change, EntityType, Operation
from peoplesync.people.planner import ChangeDraft


class ChangeWriter:
    """Appends change-log rows on an open transaction."""

    def __init__(self, conn: AsyncConnection, now: datetime, origin: str) -> None:
        self.conn = conn
        self.now = now
        self.origin = origin

    async def write(self, drafts: Sequence[ChangeDraft], entity_type: EntityType) -> None:
        """Append one row per draft, and tell the change waiters when it commits."""
        if not drafts:
            return
        await BulkWriter(self.conn).insert(
            t.change_log,
            ("at", "entity_type", "entity_id", "operation", "version", "origin", "changes"),
            [
                (self.now, entity_type, d.entity_id, d.operation, d.version, self.origin, d.changes)
                for d in drafts
            ],
        )
        await announce(self.conn)  # waiters wake once (and only if) this transaction commits

    async def write_one(
        self,
        entity_type: EntityType,
        entity_id: str,
        operation: Operation,
        version: int,
        changes: dict[str, Any],
    ) -> None:
        """Append a single row."""
        await self.write([ChangeDraft(entity_id, operation, version, changes)], entity_type)


async def read_changes(conn: AsyncConnection, seq: int, limit: int) -> list[Change]:
    """Entries with a sequence number above ``seq``, oldest first, at most ``limit``."""
    rows = await conn.execute(
        sa.select(t.change_log)
        .where(t.change_log.c.seq > seq)
        .order_by(t.change_log.c.seq)
        .limit(limit)
    )
    return [
        Change(
            seq=r.seq,
            at=r.at,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            operation=r.operation,
            changes=r.changes,
            origin=r.origin,
            version=r.version,
        )
        for r in rows
    ]


async def changed_at(
    conn: AsyncConnection, wanted: Mapping[str, Collection[str]], *, chunk: int = 1000
) -> dict[str, dict[str, datetime]]:
    """When each wanted attribute of each person (person id -> attribute names) last changed,
    from the change log; an attribute the log has no change of is left out."""
    log = t.change_log
    by_attribute: dict[str, list[str]] = {}
    for person_id, names in wanted.items():
        for name in names:
            by_attribute.setdefault(name, []).append(person_id)
    found: dict[str, dict[str, datetime]] = {}
    for name, ids in by_attribute.items():
        for start in range(0, len(ids), chunk):
            rows = await conn.execute(
                sa.select(log.c.entity_id, sa.func.max(log.c.at))
                .where(
                    log.c.entity_type == "person",
                    log.c.entity_id.in_(ids[start : start + chunk]),
                    _has_key(conn, name),
                )
                .group_by(log.c.entity_id)
            )
            for person_id, at in rows:
                if at is not None:
                    found.setdefault(person_id, {})[name] = _utc(at)
    return found


def _has_key(conn: AsyncConnection, name: str) -> sa.ColumnElement[bool]:
    """Whether a change-log entry's changes name the attribute."""
    if conn.dialect.name == "postgresql":
        return t.change_log.c.changes.op("?", return_type=sa.Boolean)(name)
    return sa.func.json_type(t.change_log.c.changes, f'$."{name}"').is_not(None)


def _utc(value: datetime | str) -> datetime:
    # MAX() over SQLite's stored text comes back as that text, not through the column type.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
