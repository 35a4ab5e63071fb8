"""Server-side query cursors behind ``nextRecordsUrl`` and Bulk query locators."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.soql_compiler import CompiledQuery, compile_soql

MAX_OPEN = 200


@dataclass
class OpenQuery:
    """A running query: its compiled form, its cursor and how far it has been read."""

    compiled: CompiledQuery
    cursor: aiosqlite.Cursor
    total: int
    delivered: int = 0


class QueryCursors:
    """Runs queries on a read connection and keeps their cursors by locator."""

    def __init__(
        self, reader: aiosqlite.Connection, schema: Schema, clock: Callable[[], datetime]
    ) -> None:
        self.reader = reader
        self.schema = schema
        self.clock = clock
        self.open: dict[str, OpenQuery] = {}

    async def start(self, soql: str, *, include_deleted: bool) -> tuple[str, OpenQuery]:
        """Compile and run ``soql``; returns a locator id and the open query."""
        compiled = compile_soql(
            soql, self.schema, include_deleted=include_deleted, now=self.clock()
        )
        if compiled.is_count:
            async with self.reader.execute(compiled.sql, compiled.params) as cursor:
                row = await cursor.fetchone()
            total = int(row[0]) if row else 0
            cursor = await self.reader.execute("SELECT 1 WHERE 0")
            query = OpenQuery(compiled, cursor, total)
        else:
            async with self.reader.execute(
                f"SELECT COUNT(*) FROM ({compiled.sql})", compiled.params
            ) as counter:
                row = await counter.fetchone()
            total = int(row[0]) if row else 0
            cursor = await self.reader.execute(compiled.sql, compiled.params)
            query = OpenQuery(compiled, cursor, total)
        body = "01g8d" + secrets.token_hex(5).upper()[:10]
        locator = body + checksum(body)
        if len(self.open) >= MAX_OPEN:
            oldest = next(iter(self.open))
            await self.open.pop(oldest).cursor.close()
        self.open[locator] = query
        return locator, query

    async def page(self, locator: str, size: int) -> list[Any]:
        """The next ``size`` rows of an open query (closed and forgotten when exhausted)."""
        query = self.open[locator]
        rows = list(await query.cursor.fetchmany(size))
        query.delivered += len(rows)
        if query.delivered >= query.total or len(rows) < size:
            await self.close(locator)
        return rows

    async def close(self, locator: str) -> None:
        """Forget a query."""
        query = self.open.pop(locator, None)
        if query is not None:
            await query.cursor.close()
