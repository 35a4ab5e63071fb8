"""Change Data Capture: every committed change becomes a retained, replayable event."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from peoplesync.sandbox.salesforce.change import RecordChange
from peoplesync.sandbox.salesforce.config import SandboxConfig

_REST_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")
NAME_PARTS = ("Salutation", "FirstName", "LastName")
ALL_CHANGES = "/data/ChangeEvents"


def channel_of(entity: str) -> str:
    """The per-object channel of an sObject."""
    return f"/data/{entity}ChangeEvent"


def _cdc_value(value: object) -> object:
    # CDC payloads write datetimes with Z, unlike REST's +0000.
    if isinstance(value, str) and value.endswith("+0000") and _REST_DATETIME.fullmatch(value):
        return value[:-5] + "Z"
    return value


def payload(
    change: RecordChange, transaction_key: str, sequence: int, commit_ms: int, commit_number: int
) -> dict[str, Any]:
    """The event payload of one change, header first."""
    values = {k: _cdc_value(v) for k, v in change.values.items() if k not in ("Id", "IsDeleted")}
    if change.entity_name in ("Lead", "Contact"):
        values.pop("Name", None)  # their names travel as the compound below
    if change.entity_name in ("Lead", "Contact") and any(p in values for p in NAME_PARTS):
        values["Name"] = {p: values.pop(p) for p in NAME_PARTS if p in values}
    header = {
        "entityName": change.entity_name,
        "recordIds": list(change.record_ids),
        "changeType": change.change_type,
        "changeOrigin": "com/salesforce/api/rest/59.0;client=peoplesync-sandbox",
        "transactionKey": transaction_key,
        "sequenceNumber": sequence,
        "commitTimestamp": commit_ms,
        "commitNumber": commit_number,
        "commitUser": change.commit_user,
        "changedFields": list(change.changed_fields) if change.change_type == "UPDATE" else [],
        "diffFields": [],
        "nulledFields": [k for k, v in change.values.items() if v is None]
        if change.change_type == "UPDATE"
        else [],
    }
    if change.change_type in ("DELETE", "UNDELETE"):
        values = {}
    return {
        "ChangeEventHeader": header,
        **{k: v for k, v in values.items() if v is not None or change.change_type == "UPDATE"},
    }


class ChangeEventLog:
    """Stores events with replay ids and wakes long-polling subscribers."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._conn: aiosqlite.Connection | None = None
        self._arrived = asyncio.Event()
        self.commit_number = 0
        # A read statement left open while this connection writes would hold an old snapshot
        # and make the write fail at once ("database is locked"): one use at a time.
        self._using = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("event log is not open")
        return self._conn

    async def open(self) -> None:
        """Create the event table."""
        self._conn = await aiosqlite.connect(self.config.database_path)
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS cdc_events (replay_id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " entity TEXT NOT NULL, created_at REAL NOT NULL, payload TEXT NOT NULL)"
        )
        await self.conn.commit()

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def publish(self, transaction_key: str, changes: Sequence[RecordChange]) -> None:
        """Record the changes of one committed transaction and wake subscribers."""
        now = self.clock()
        commit_ms = int(now.timestamp() * 1000)
        key = str(uuid.UUID(int=hash(transaction_key) & ((1 << 128) - 1)))
        rows = []
        for sequence, change in enumerate(changes, start=1):
            self.commit_number += 1
            body = payload(
                change, key, sequence, commit_ms, commit_ms * 1_000_000 + self.commit_number
            )
            rows.append((change.entity_name, now.timestamp(), json.dumps(body)))
        horizon = (now - timedelta(hours=self.config.event_retention_hours)).timestamp()
        async with self._using:
            await self.conn.executemany(
                "INSERT INTO cdc_events (entity, created_at, payload) VALUES (?, ?, ?)", rows
            )
            await self.conn.execute("DELETE FROM cdc_events WHERE created_at < ?", (horizon,))
            await self.conn.commit()
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def bounds(self) -> tuple[int, int]:
        """(earliest retained replay id, latest replay id); (0, 0) when empty."""
        async with self._using:
            (row,) = await self.conn.execute_fetchall(
                "SELECT MIN(replay_id), MAX(replay_id) FROM cdc_events"
            )
            sequence = await self.conn.execute_fetchall(
                "SELECT seq FROM sqlite_sequence WHERE name = 'cdc_events'"
            )
        if row is None or row[1] is None:
            seq = next(iter(sequence), None)
            latest = int(seq[0]) if seq else 0
            return latest + 1, latest
        return int(row[0]), int(row[1])

    async def after(
        self, replay_id: int, entities: set[str] | None, limit: int = 1000
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """Events with a replay id above ``replay_id`` (of ``entities``; None means all)."""
        async with self._using:
            rows = await self.conn.execute_fetchall(
                "SELECT replay_id, entity, payload FROM cdc_events WHERE replay_id > ? ORDER BY replay_id LIMIT ?",
                (replay_id, limit),
            )
        return [
            (int(r[0]), str(r[1]), json.loads(r[2]))
            for r in rows
            if entities is None or r[1] in entities
        ]

    async def wait(self, seconds: float) -> None:
        """Wait until something is published, or ``seconds``."""
        arrived = self._arrived
        try:
            await asyncio.wait_for(arrived.wait(), seconds)
        except TimeoutError:
            return
