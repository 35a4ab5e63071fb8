"""The sandbox provider's tables, in its own SQLite file, and their upgrade in place."""

from __future__ import annotations

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    bulk_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sender TEXT,
    body TEXT NOT NULL,
    callback_data TEXT,
    notify_url TEXT,
    seen_url TEXT,
    status TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    report_due REAL,
    report_state INTEGER NOT NULL DEFAULT 0,
    report_attempts INTEGER NOT NULL DEFAULT 0,
    report_next REAL,
    seen_due REAL,
    seen_state INTEGER NOT NULL DEFAULT 0,
    seen_attempts INTEGER NOT NULL DEFAULT 0,
    seen_next REAL,
    report_posted_at REAL
);
CREATE INDEX IF NOT EXISTS messages_report_due ON messages (report_state, report_next);
CREATE INDEX IF NOT EXISTS messages_seen_due ON messages (seen_state, seen_next);
CREATE TABLE IF NOT EXISTS inbound (
    message_id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    text TEXT NOT NULL,
    received_at REAL NOT NULL,
    url TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL
);
CREATE INDEX IF NOT EXISTS inbound_due ON inbound (state, next_at);
CREATE TABLE IF NOT EXISTS links (
    code TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    tracking_url TEXT,
    UNIQUE (message_id, position)
);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    url TEXT NOT NULL,
    clicked_at REAL NOT NULL,
    user_agent TEXT,
    tracking_url TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL
);
CREATE INDEX IF NOT EXISTS clicks_due ON clicks (state, next_at);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


async def create_tables(db: aiosqlite.Connection) -> None:
    """Create what is missing; a data dir made before ``report_posted_at`` gets the column
    at the end of ``messages``, where a new file has it too (rows are read by position)."""
    await db.executescript(SCHEMA)
    cursor = await db.execute("PRAGMA table_info(messages)")
    if "report_posted_at" not in {row[1] for row in await cursor.fetchall()}:
        await db.execute("ALTER TABLE messages ADD COLUMN report_posted_at REAL")
    await db.commit()
