"""The change log: written in the same transaction as each change, read in sequence order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.model import Change, EntityType, Operation
from peoplesync.people.planner import ChangeDraft


class ChangeWriter:
    """Appends change-log rows on an open transaction."""

    def __init__(self, conn: AsyncConnection, now: datetime, origin: str) -> None:
        self.conn = conn
        self.now = now
        self.origin = origin

    async def write(self, drafts: Sequence[ChangeDraft], entity_type: EntityType) -> None:
        """Append one row per draft."""
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
