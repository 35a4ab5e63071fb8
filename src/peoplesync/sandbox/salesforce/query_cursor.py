"""Server-side query cursors behind ``nextRecordsUrl`` and Bulk query locators.

A cursor that is not read to its end holds an unfinished SQLite statement, and with it a read
transaction: everything else read on that connection would see the data as it was when the
cursor opened. So every open cursor reads on a connection of its own, in a read transaction
that gives its pages one snapshot (as the count it answered with), while every other query
starts from committed data. Connections are lent from a small pool and given back, their
transaction ended, as soon as a cursor is exhausted, closed or evicted. Salesforce drops
locators after about 15 minutes without use and keeps a limited number per user; so do we,
least recently used first, which bounds threads, memory and how long the WAL must be kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.soql_compiler import CompiledQuery, compile_soql

MAX_OPEN = 50
IDLE_LIMIT = timedelta(minutes=15)
POOLED = 4  # idle connections kept for the next query


@dataclass
class OpenQuery:
    """A running query: its compiled form, its own connection and how far it has been read."""

    compiled: CompiledQuery
    total: int
    connection: aiosqlite.Connection | None
    cursor: aiosqlite.Cursor | None
    used: datetime
    delivered: int = 0


class QueryCursors:
    """Runs queries on pooled read connections and keeps open cursors by locator."""

    def __init__(
        self,
        database: Path,
        schema: Schema,
        clock: Callable[[], datetime],
        *,
        max_open: int = MAX_OPEN,
        idle_limit: timedelta = IDLE_LIMIT,
    ) -> None:
        self.database = database
        self.schema = schema
        self.clock = clock
        self.max_open = max_open
        self.idle_limit = idle_limit
        self.open: dict[str, OpenQuery] = {}  # least recently used first
        self._pool: list[aiosqlite.Connection] = []

    async def read(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """All rows of one statement, read to the end on a pooled connection."""
        connection = await self._borrow()
        try:
            async with connection.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())
        finally:
            await self._give_back(connection)

    async def start(
        self, soql: str, *, include_deleted: bool, first_page: int
    ) -> tuple[str, OpenQuery, list[Any]]:
        """Compile and run ``soql``; returns a locator id, the query and its first page."""
        compiled = compile_soql(
            soql, self.schema, include_deleted=include_deleted, now=self.clock()
        )
        return await self.start_compiled(compiled, first_page=first_page)

    async def start_compiled(
        self,
        compiled: CompiledQuery,
        *,
        first_page: int,
        offset: int = 0,
        locator: str | None = None,
    ) -> tuple[str, OpenQuery, list[Any]]:
        """Run a compiled query from row ``offset`` in a snapshot of its own and read its first
        ``first_page`` rows; the query stays open (under ``locator``) while rows remain."""
        await self._evict(room_for=1)
        if locator is None:
            body = "01g8d" + secrets.token_hex(5).upper()[:10]
            locator = body + checksum(body)
        if compiled.is_count:
            counted = await self.read(compiled.sql, compiled.params)
            total = int(counted[0][0]) if counted else 0
            return locator, OpenQuery(compiled, total, None, None, self.clock()), []
        connection = await self._borrow()
        cursor: aiosqlite.Cursor | None = None
        try:
            await connection.execute("BEGIN")  # the count and every page: one snapshot
            sql = compiled.sql
            if offset:
                sql = f"SELECT * FROM ({sql}) LIMIT -1 OFFSET {int(offset)}"
            cursor = await connection.execute(sql, compiled.params)
            rows = list(await cursor.fetchmany(first_page)) if first_page else []
            if offset == 0 and len(rows) < first_page:
                total = len(rows)  # read to the end already: no need to count
            else:
                async with connection.execute(
                    f"SELECT COUNT(*) FROM ({compiled.sql})", compiled.params
                ) as counter:
                    counted_row = await counter.fetchone()
                total = int(counted_row[0]) if counted_row else 0
        except BaseException:
            if cursor is not None:
                await cursor.close()
            await self._give_back(connection)
            raise
        query = OpenQuery(compiled, total, connection, cursor, self.clock(), offset + len(rows))
        self.open[locator] = query
        if query.delivered >= total or len(rows) < first_page:
            await self.close(locator)
        return locator, query, rows

    async def find(self, locator: str) -> OpenQuery | None:
        """The open query behind ``locator``, unless it expired or was never opened."""
        await self._evict(room_for=0)
        return self.open.get(locator)

    async def seek(self, locator: str, offset: int | None) -> OpenQuery | None:
        """The open query behind ``locator``, positioned at row ``offset`` (None: where it is).

        A locator names its offset, so a client may ask for a page again (a retry after a
        lost answer) or skip ahead; the query then runs anew from there, in a new snapshot.
        """
        query = await self.find(locator)
        if query is None or offset in (None, query.delivered):
            return query
        await self.close(locator)
        _, query, _ = await self.start_compiled(
            query.compiled, first_page=0, offset=offset or 0, locator=locator
        )
        return query

    async def page(self, locator: str, size: int) -> list[Any]:
        """The next ``size`` rows of an open query (closed and forgotten when exhausted)."""
        query = self.open.pop(locator, None)
        if query is None:
            return []
        self.open[locator] = query  # now the most recently used
        query.used = self.clock()
        rows = list(await query.cursor.fetchmany(size)) if query.cursor is not None else []
        query.delivered += len(rows)
        if query.delivered >= query.total or len(rows) < size:
            await self.close(locator)
        return rows

    async def close(self, locator: str) -> None:
        """Forget a query and give its connection back."""
        query = self.open.pop(locator, None)
        if query is None:
            return
        if query.cursor is not None:
            await query.cursor.close()
        if query.connection is not None:
            await self._give_back(query.connection)

    async def expire(self) -> None:
        """Close the cursors unused for too long (called now and then, so that an abandoned
        cursor does not keep its snapshot, and the WAL behind it, while nobody queries)."""
        await self._evict(room_for=0)

    async def close_all(self) -> None:
        """Close every cursor and connection (the org is shutting down)."""
        for locator in list(self.open):
            await self.close(locator)
        while self._pool:
            await self._pool.pop().close()

    async def _evict(self, *, room_for: int) -> None:
        """Close cursors idle too long, then the least recently used beyond the limit."""
        stale = self.clock() - self.idle_limit
        for locator in [k for k, q in self.open.items() if q.used < stale]:
            await self.close(locator)
        while self.open and len(self.open) + room_for > self.max_open:
            await self.close(next(iter(self.open)))

    async def _borrow(self) -> aiosqlite.Connection:
        if self._pool:
            return self._pool.pop()
        connection = await aiosqlite.connect(self.database, isolation_level=None)
        await connection.execute("PRAGMA query_only = 1")
        return connection

    async def _give_back(self, connection: aiosqlite.Connection) -> None:
        """End the connection's read transaction; keep it for reuse or close it."""
        if connection.in_transaction:
            await connection.rollback()
        if len(self._pool) < POOLED:
            self._pool.append(connection)
        else:
            await connection.close()
