"""Journey runs and each contact's path, in ``journeys.sqlite3`` of the sandbox's data dir.

The runner appends steps through a buffer flushed in batches (a 100,000-contact journey
writes many); the sandbox's pages and ``journeys show`` read the same file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

FILE_NAME = "journeys.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, journey TEXT NOT NULL, started REAL NOT NULL, finished REAL,
    summary TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_journey ON runs (journey, started);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, contact_key TEXT NOT NULL, seq INTEGER NOT NULL,
    activity TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL, code INTEGER,
    out TEXT NOT NULL, branch TEXT, ms REAL NOT NULL,
    PRIMARY KEY (run_id, contact_key, seq)
);
CREATE INDEX IF NOT EXISTS steps_by_activity ON steps (run_id, activity);
"""
FLUSH_EVERY = 500  # steps
FLUSH_SECONDS = 0.5  # or this long after the last flush, so pages see a run move


@dataclass(frozen=True)
class Step:
    """One contact at one activity: when, how it went, its out-arguments, its branch.

    ``status`` is ``ok``, ``waited``, ``event``, ``timed_out``, ``routed``, ``retry`` (an
    injected Journey Builder retry of a call that had succeeded), ``ejected`` or ``exited``.
    """

    contact_key: str
    seq: int
    activity: str
    at: float
    status: str
    code: int | None = None
    out: dict[str, Any] | None = None
    branch: str | None = None
    ms: float = 0.0


def journey_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


class JourneyStore:
    def __init__(self, data_dir: Path) -> None:
        self._path = journey_path(data_dir)
        self._db: aiosqlite.Connection | None = None
        self._buffer: list[tuple[Any, ...]] = []
        self._flushed = time.monotonic()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path, timeout=30)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self.flush()
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the journey store is not open")
        return self._db

    async def start_run(self, run_id: str, journey: str, started: float) -> None:
        await self.db.execute(
            "INSERT INTO runs (id, journey, started) VALUES (?, ?, ?)", (run_id, journey, started)
        )
        await self.db.commit()

    async def finish_run(self, run_id: str, finished: float, summary: dict[str, Any]) -> None:
        await self.flush()
        await self.db.execute(
            "UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
            (finished, json.dumps(summary), run_id),
        )
        await self.db.commit()

    async def record(self, run_id: str, step: Step) -> None:
        self._buffer.append(
            (
                run_id,
                step.contact_key,
                step.seq,
                step.activity,
                step.at,
                step.status,
                step.code,
                json.dumps(step.out or {}),
                step.branch,
                step.ms,
            )
        )
        if len(self._buffer) >= FLUSH_EVERY or time.monotonic() - self._flushed > FLUSH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        self._flushed = time.monotonic()
        await self.db.executemany(
            "INSERT OR REPLACE INTO steps (run_id, contact_key, seq, activity, at, status, "
            "code, out, branch, ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        await self.db.commit()

    # --- reads ----------------------------------------------------------------------------

    async def runs(self, journey: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, journey, started, finished, summary FROM runs"
        args: tuple[str, ...] = ()
        if journey is not None:
            sql, args = sql + " WHERE journey = ?", (journey,)
        async with self.db.execute(sql + " ORDER BY started DESC", args) as cursor:
            return [
                {
                    "run": row[0],
                    "journey": row[1],
                    "started": row[2],
                    "finished": row[3],
                    "summary": json.loads(row[4]) if row[4] else None,
                }
                async for row in cursor
            ]

    async def counts(self, run_id: str) -> list[dict[str, Any]]:
        """Contacts per activity, status and branch (retries apart)."""
        async with self.db.execute(
            "SELECT activity, status, COALESCE(branch, ''), COUNT(DISTINCT contact_key), "
            "MIN(seq) FROM steps WHERE run_id = ? GROUP BY activity, status, branch "
            "ORDER BY MIN(seq), activity, status, branch",
            (run_id,),
        ) as cursor:
            return [
                {"activity": row[0], "status": row[1], "branch": row[2], "contacts": row[3]}
                async for row in cursor
            ]

    async def path(self, run_id: str, contact_key: str) -> list[dict[str, Any]]:
        async with self.db.execute(
            "SELECT seq, activity, at, status, code, out, branch, ms FROM steps "
            "WHERE run_id = ? AND contact_key = ? ORDER BY seq",
            (run_id, contact_key),
        ) as cursor:
            return [
                {
                    "seq": row[0],
                    "activity": row[1],
                    "at": row[2],
                    "status": row[3],
                    "code": row[4],
                    "out": json.loads(row[5]),
                    "branch": row[6],
                    "ms": row[7],
                }
                async for row in cursor
            ]

    async def unfinished(self, journey: str) -> str | None:
        """The latest run of ``journey`` if it never finished (its runner was killed)."""
        async with self.db.execute(
            "SELECT id, finished FROM runs WHERE journey = ? ORDER BY started DESC LIMIT 1",
            (journey,),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row is not None and row[1] is None else None

    async def steps_by_contact(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every recorded step of a run, per contact."""
        found: dict[str, list[dict[str, Any]]] = {}
        async with self.db.execute(
            "SELECT contact_key, seq, activity, at, status, code, out, branch, ms FROM steps "
            "WHERE run_id = ?",
            (run_id,),
        ) as cursor:
            async for row in cursor:
                found.setdefault(row[0], []).append(
                    {
                        "contact_key": row[0],
                        "seq": row[1],
                        "activity": row[2],
                        "at": row[3],
                        "status": row[4],
                        "code": row[5],
                        "out": json.loads(row[6]),
                        "branch": row[7],
                        "ms": row[8],
                    }
                )
        return found

    async def contacts(self, run_id: str, limit: int = 200) -> list[str]:
        async with self.db.execute(
            "SELECT DISTINCT contact_key FROM steps WHERE run_id = ? ORDER BY contact_key LIMIT ?",
            (run_id, limit),
        ) as cursor:
            return [str(row[0]) async for row in cursor]
