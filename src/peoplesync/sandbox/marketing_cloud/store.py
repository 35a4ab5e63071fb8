"""The sandbox's state in its own SQLite file: extensions, rows, async requests, events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS extensions (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    extension_id TEXT NOT NULL, pk TEXT NOT NULL, data TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (extension_id, pk)
);
CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_definitions (
    key TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, contact_key TEXT NOT NULL, data TEXT NOT NULL,
    at REAL NOT NULL
);
"""

Json = dict[str, Any]


class SandboxStore:
    """One connection, one writer at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self.lock = asyncio.Lock()
        self._seq = 0

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()
        async with self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM rows") as cursor:
            found = await cursor.fetchone()
        self._seq = int(found[0]) if found else 0

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the sandbox store is not open")
        return self._db

    # --- extensions ----------------------------------------------------------------------

    async def save_extension(self, body: Json) -> None:
        await self.db.execute(
            "INSERT INTO extensions (id, key, name, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (body["id"], body["key"], body["name"], json.dumps(body)),
        )
        await self.db.commit()

    async def extension(self, reference: str) -> Json | None:
        """By id, or by external key written ``key:<key>`` (keys compared without case)."""
        if reference.lower().startswith("key:"):
            sql, value = "SELECT body FROM extensions WHERE lower(key) = lower(?)", reference[4:]
        else:
            sql, value = "SELECT body FROM extensions WHERE id = ?", reference
        async with self.db.execute(sql, (value,)) as cursor:
            found = await cursor.fetchone()
        return json.loads(found[0]) if found else None

    async def extensions(self) -> list[Json]:
        async with self.db.execute("SELECT body FROM extensions ORDER BY name") as cursor:
            return [json.loads(row[0]) async for row in cursor]

    # --- rows ----------------------------------------------------------------------------

    async def upsert_rows(self, extension_id: str, rows: Sequence[tuple[str, Json]]) -> None:
        """Upsert ``(primary key, full row)`` pairs; an existing row keeps unsent columns
        (a value sent as null empties its column)."""
        batch = []
        for pk, data in rows:
            self._seq += 1
            batch.append((extension_id, pk, json.dumps(data), self._seq))
        await self.db.executemany(
            "INSERT INTO rows (extension_id, pk, data, seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (extension_id, pk) DO UPDATE SET data = json_patch(data, excluded.data)",
            batch,
        )
        await self.db.commit()

    async def row_exists(self, extension_id: str, pk: str) -> bool:
        async with self.db.execute(
            "SELECT 1 FROM rows WHERE extension_id = ? AND pk = ?", (extension_id, pk)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def row_count(self, extension_id: str) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM rows WHERE extension_id = ?", (extension_id,)
        ) as cursor:
            found = await cursor.fetchone()
        return int(found[0]) if found else 0

    async def rows(self, extension_id: str) -> list[Json]:
        async with self.db.execute(
            "SELECT data FROM rows WHERE extension_id = ? ORDER BY seq", (extension_id,)
        ) as cursor:
            return [json.loads(row[0]) async for row in cursor]

    # --- async requests ------------------------------------------------------------------

    async def save_request(self, request_id: str, body: Json) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO requests (id, body) VALUES (?, ?)",
            (request_id, json.dumps(body)),
        )
        await self.db.commit()

    async def request(self, request_id: str) -> Json | None:
        async with self.db.execute(
            "SELECT body FROM requests WHERE id = ?", (request_id,)
        ) as cursor:
            found = await cursor.fetchone()
        return json.loads(found[0]) if found else None

    # --- events --------------------------------------------------------------------------

    async def save_event_definition(self, body: Json) -> None:
        await self.db.execute(
            "INSERT INTO event_definitions (key, id, body) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body",
            (body["eventDefinitionKey"], body["id"], json.dumps(body)),
        )
        await self.db.commit()

    async def event_definition(self, reference: str) -> Json | None:
        if reference.lower().startswith("key:"):
            sql, value = "SELECT body FROM event_definitions WHERE key = ?", reference[4:]
        else:
            sql, value = "SELECT body FROM event_definitions WHERE id = ?", reference
        async with self.db.execute(sql, (value,)) as cursor:
            found = await cursor.fetchone()
        return json.loads(found[0]) if found else None

    async def event_definitions(self) -> list[Json]:
        async with self.db.execute("SELECT body FROM event_definitions ORDER BY key") as cursor:
            return [json.loads(row[0]) async for row in cursor]

    async def add_event(
        self, event_id: str, key: str, contact_key: str, data: Json, at: float
    ) -> None:
        await self.db.execute(
            "INSERT INTO events (id, key, contact_key, data, at) VALUES (?, ?, ?, ?, ?)",
            (event_id, key, contact_key, json.dumps(data), at),
        )
        await self.db.commit()

    async def events(self, key: str | None = None) -> list[Json]:
        sql = "SELECT id, key, contact_key, data, at FROM events"
        args: tuple[str, ...] = ()
        if key is not None:
            sql, args = sql + " WHERE key = ?", (key,)
        async with self.db.execute(sql + " ORDER BY at, id", args) as cursor:
            return [
                {
                    "eventInstanceId": row[0],
                    "eventDefinitionKey": row[1],
                    "contactKey": row[2],
                    "data": json.loads(row[3]),
                    "at": row[4],
                }
                async for row in cursor
            ]

    async def events_after(
        self, position: int, keys: Sequence[str]
    ) -> list[tuple[int, str, str, float]]:
        """Events of ``keys`` stored after ``position`` (a row id): (row id, key, contact
        key, time), oldest first; the journey runner's Wait Until Event polls this."""
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        async with self.db.execute(
            f"SELECT rowid, key, contact_key, at FROM events WHERE rowid > ? AND key IN ({marks})"
            " ORDER BY rowid",
            (position, *keys),
        ) as cursor:
            return [(int(row[0]), str(row[1]), str(row[2]), float(row[3])) async for row in cursor]
