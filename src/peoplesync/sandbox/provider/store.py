"""Accepted messages and their pending reports, in the sandbox provider's own SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from peoplesync.sandbox.provider.schema import create_tables

PENDING, SENT, GAVE_UP = 0, 1, 2


@dataclass(frozen=True)
class StoredMessage:
    message_id: str
    bulk_id: str
    channel: str
    recipient: str
    sender: str | None
    body: dict[str, Any]
    callback_data: str | None
    notify_url: str | None
    seen_url: str | None
    status: dict[str, Any]
    submitted_at: float
    report_due: float | None
    report_attempts: int
    seen_due: float | None
    seen_attempts: int


@dataclass(frozen=True)
class NewMessage:
    message_id: str
    bulk_id: str
    channel: str
    recipient: str
    sender: str | None
    body: dict[str, Any]
    callback_data: str | None
    notify_url: str | None
    seen_url: str | None
    status: dict[str, Any]
    submitted_at: float
    report_due: float | None
    seen_due: float | None


@dataclass(frozen=True)
class Mark:
    """What became of one message's report after a post: its state and next try."""

    message_id: str
    state: int
    next_at: float | None = None
    posted_at: float | None = None


@dataclass(frozen=True)
class InboundReply:
    """A reply from a handset (MO), waiting for or done with its post to the MO URL."""

    message_id: str
    sender: str
    recipient: str
    text: str
    received_at: float
    url: str
    state: int = PENDING
    attempts: int = 0


@dataclass(frozen=True)
class SandboxLink:
    """A short link the provider made for a message that asked for URL options."""

    code: str
    message_id: str
    position: int
    url: str
    tracking_url: str | None


@dataclass(frozen=True)
class SandboxClick:
    """A click on a tracked short link, waiting for or done with its click report."""

    id: int
    message_id: str
    url: str
    clicked_at: float
    user_agent: str | None
    tracking_url: str
    attempts: int
    recipient: str
    bulk_id: str
    callback_data: str | None


_CLICK_COLUMNS = (
    "c.id, c.message_id, c.url, c.clicked_at, c.user_agent, c.tracking_url, c.attempts,"
    " m.recipient, m.bulk_id, m.callback_data"
)


class MessageStore:
    """One connection, one writer at a time; messages keyed by their message id."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await create_tables(self._db)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the message store is not open")
        return self._db

    async def add(self, messages: Sequence[NewMessage]) -> set[str]:
        """Store new messages; returns the ids that were already there (duplicates)."""
        async with self._lock:
            ids = [message.message_id for message in messages]
            marks = ",".join("?" * len(ids))
            cursor = await self.db.execute(
                f"SELECT message_id FROM messages WHERE message_id IN ({marks})", ids
            )
            existing = {row[0] for row in await cursor.fetchall()}
            rows = [
                (
                    m.message_id,
                    m.bulk_id,
                    m.channel,
                    m.recipient,
                    m.sender,
                    json.dumps(m.body),
                    m.callback_data,
                    m.notify_url,
                    m.seen_url,
                    json.dumps(m.status),
                    m.submitted_at,
                    m.report_due,
                    m.report_due,
                    m.seen_due,
                    m.seen_due,
                )
                for m in messages
                if m.message_id not in existing
            ]
            await self.db.executemany(
                "INSERT INTO messages (message_id, bulk_id, channel, recipient, sender, body,"
                " callback_data, notify_url, seen_url, status, submitted_at, report_due,"
                " report_next, seen_due, seen_next) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            await self.db.commit()
            return existing

    async def due(self, kind: str, now: float, limit: int = 100) -> list[StoredMessage]:
        """Messages whose delivery (``report``) or ``seen`` report is due."""
        column = "report" if kind == "report" else "seen"
        cursor = await self.db.execute(
            f"SELECT * FROM messages WHERE {column}_state = 0 AND {column}_next IS NOT NULL"
            f" AND {column}_next <= ? ORDER BY {column}_next LIMIT ?",
            (now, limit),
        )
        return [_row(row) for row in await cursor.fetchall()]

    async def mark(self, kind: str, marks: Sequence[Mark]) -> None:
        """After posts (or give-ups) of ``kind`` reports, in one transaction; a mark's
        ``posted_at`` (when a delivery report's post was answered 2xx) is kept for timings."""
        column = "report" if kind == "report" else "seen"
        posted = ", report_posted_at = COALESCE(?, report_posted_at)" if kind == "report" else ""
        rows = [
            (m.state, m.next_at, *((m.posted_at,) if posted else ()), m.message_id) for m in marks
        ]
        async with self._lock:
            await self.db.executemany(
                f"UPDATE messages SET {column}_state = ?, {column}_next = ?,"
                f" {column}_attempts = {column}_attempts + 1{posted} WHERE message_id = ?",
                rows,
            )
            await self.db.commit()

    async def add_links(self, links: Sequence[SandboxLink]) -> None:
        async with self._lock:
            await self.db.executemany(
                "INSERT OR IGNORE INTO links (code, message_id, position, url, tracking_url)"
                " VALUES (?,?,?,?,?)",
                [(k.code, k.message_id, k.position, k.url, k.tracking_url) for k in links],
            )
            await self.db.commit()

    async def link(self, code: str) -> SandboxLink | None:
        cursor = await self.db.execute(
            "SELECT code, message_id, position, url, tracking_url FROM links WHERE code = ?",
            (code,),
        )
        row = await cursor.fetchone()
        return SandboxLink(*row) if row else None

    async def link_of(self, message_id: str, position: int) -> SandboxLink | None:
        cursor = await self.db.execute(
            "SELECT code, message_id, position, url, tracking_url FROM links"
            " WHERE message_id = ? AND position = ?",
            (message_id, position),
        )
        row = await cursor.fetchone()
        return SandboxLink(*row) if row else None

    async def links_of(self, message_ids: Sequence[str]) -> list[SandboxLink]:
        marks = ",".join("?" * len(message_ids))
        cursor = await self.db.execute(
            "SELECT code, message_id, position, url, tracking_url FROM links"
            f" WHERE message_id IN ({marks}) ORDER BY message_id, position",
            list(message_ids),
        )
        return [SandboxLink(*row) for row in await cursor.fetchall()]

    async def add_click(self, link: SandboxLink, at: float, user_agent: str | None) -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO clicks (message_id, url, clicked_at, user_agent, tracking_url,"
                " next_at) VALUES (?,?,?,?,?,?)",
                (link.message_id, link.url, at, user_agent, link.tracking_url, at),
            )
            await self.db.commit()

    async def clicks_due(self, now: float, limit: int = 100) -> list[SandboxClick]:
        cursor = await self.db.execute(
            f"SELECT {_CLICK_COLUMNS} FROM clicks c JOIN messages m USING (message_id)"
            " WHERE c.state = 0 AND c.next_at <= ? ORDER BY c.next_at LIMIT ?",
            (now, limit),
        )
        return [SandboxClick(*row) for row in await cursor.fetchall()]

    async def mark_click(self, click_id: int, state: int, next_at: float | None) -> None:
        async with self._lock:
            await self.db.execute(
                "UPDATE clicks SET state = ?, next_at = ?, attempts = attempts + 1 WHERE id = ?",
                (state, next_at, click_id),
            )
            await self.db.commit()

    async def setting(self, name: str) -> str | None:
        cursor = await self.db.execute("SELECT value FROM settings WHERE name = ?", (name,))
        row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_setting(self, name: str, value: str) -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            await self.db.commit()

    async def add_inbound(self, reply: InboundReply) -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO inbound (message_id, sender, recipient, text, received_at, url,"
                " next_at) VALUES (?,?,?,?,?,?,?)",
                (
                    reply.message_id,
                    reply.sender,
                    reply.recipient,
                    reply.text,
                    reply.received_at,
                    reply.url,
                    reply.received_at,
                ),
            )
            await self.db.commit()

    async def inbound_due(self, now: float, limit: int = 100) -> list[InboundReply]:
        cursor = await self.db.execute(
            "SELECT message_id, sender, recipient, text, received_at, url, state, attempts"
            " FROM inbound WHERE state = 0 AND next_at <= ? ORDER BY next_at LIMIT ?",
            (now, limit),
        )
        return [InboundReply(*row) for row in await cursor.fetchall()]

    async def mark_inbound(self, message_id: str, state: int, next_at: float | None) -> None:
        async with self._lock:
            await self.db.execute(
                "UPDATE inbound SET state = ?, next_at = ?, attempts = attempts + 1"
                " WHERE message_id = ?",
                (state, next_at, message_id),
            )
            await self.db.commit()

    async def recent_inbound(self, limit: int = 20) -> list[InboundReply]:
        cursor = await self.db.execute(
            "SELECT message_id, sender, recipient, text, received_at, url, state, attempts"
            " FROM inbound ORDER BY received_at DESC LIMIT ?",
            (limit,),
        )
        return [InboundReply(*row) for row in await cursor.fetchall()]

    async def recent(self, limit: int = 100) -> list[StoredMessage]:
        cursor = await self.db.execute(
            "SELECT * FROM messages ORDER BY submitted_at DESC LIMIT ?", (limit,)
        )
        return [_row(row) for row in await cursor.fetchall()]

    async def count(self) -> int:
        cursor = await self.db.execute("SELECT COUNT(*) FROM messages")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


def _row(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        message_id=row[0],
        bulk_id=row[1],
        channel=row[2],
        recipient=row[3],
        sender=row[4],
        body=json.loads(row[5]),
        callback_data=row[6],
        notify_url=row[7],
        seen_url=row[8],
        status=json.loads(row[9]),
        submitted_at=row[10],
        report_due=row[11],
        report_attempts=row[13],
        seen_due=row[15],
        seen_attempts=row[17],
    )
