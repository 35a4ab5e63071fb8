"""Bulk jobs kept in the org's database, so that they outlive a restart of the org.

A job is one row of JSON (its state and counters) plus parts: the uploaded data, batch
requests and result rows, each stored once when it is made. Writes share the record
service's connection: a chunk of inserted records and the results that name their ids are
committed together, so a crash never leaves records written that a job does not know of.
"""

from __future__ import annotations

import json
from typing import Any

from peoplesync.sandbox.salesforce.records import RecordService


class BulkStore:
    """Job rows and parts in ``meta_bulk_job`` / ``meta_bulk_part``."""

    def __init__(self, records: RecordService) -> None:
        self.records = records

    @property
    def _conn(self) -> Any:
        return self.records.storage.conn

    async def open(self) -> None:
        """Create the tables of a new org."""
        async with self.records.lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta_bulk_job "
                "(id TEXT PRIMARY KEY, api TEXT NOT NULL, body TEXT NOT NULL)"
            )
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta_bulk_part (job_id TEXT NOT NULL, "
                "part TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, "
                "PRIMARY KEY (job_id, part, seq))"
            )
            await self._conn.commit()

    async def jobs(self, api: str) -> list[dict[str, Any]]:
        """Every stored job of ``api`` (``bulk1`` or ``bulk2``), oldest first."""
        async with self._conn.execute(
            "SELECT body FROM meta_bulk_job WHERE api = ? ORDER BY rowid", (api,)
        ) as cursor:
            return [json.loads(row[0]) async for row in cursor]

    async def parts(self, job_id: str, part: str) -> list[bytes]:
        """The stored pieces of one part of a job, in order."""
        async with self._conn.execute(
            "SELECT body FROM meta_bulk_part WHERE job_id = ? AND part = ? ORDER BY seq",
            (job_id, part),
        ) as cursor:
            return [bytes(row[0]) async for row in cursor]

    async def stage(
        self, api: str, job_id: str, body: dict[str, Any], parts: dict[tuple[str, int], bytes]
    ) -> None:
        """Write a job's row and new parts inside the caller's transaction (no commit)."""
        await self._conn.execute(
            "INSERT OR REPLACE INTO meta_bulk_job VALUES (?, ?, ?)",
            (job_id, api, json.dumps(body)),
        )
        await self._conn.executemany(
            "INSERT OR REPLACE INTO meta_bulk_part VALUES (?, ?, ?, ?)",
            [(job_id, part, seq, data) for (part, seq), data in parts.items()],
        )

    async def save(
        self,
        api: str,
        job_id: str,
        body: dict[str, Any],
        parts: dict[tuple[str, int], bytes] | None = None,
    ) -> None:
        """Write and commit a job's row and new parts."""
        async with self.records.lock:
            await self.stage(api, job_id, body, parts or {})
            await self._conn.commit()

    async def delete(self, job_id: str) -> None:
        """Forget a job and its parts."""
        async with self.records.lock:
            await self._conn.execute("DELETE FROM meta_bulk_job WHERE id = ?", (job_id,))
            await self._conn.execute("DELETE FROM meta_bulk_part WHERE job_id = ?", (job_id,))
            await self._conn.commit()
