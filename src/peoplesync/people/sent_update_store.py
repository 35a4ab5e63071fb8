"""A push's update attempts in the SQL People store: the values sent to each linked record
and not yet known to be settled, one row a record (``sync.outbound.sent_updates`` says what
they are for)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.person_rows import chunked

_IN_SIZE = 5000  # record ids in one IN list
_COLUMNS = ("system", "record_id", "object", "at", "sent")


async def _any_saved(conn: AsyncConnection, system: str, sobject: str | None = None) -> bool:
    table = t.push_sent_updates
    query = sa.select(sa.literal(1)).where(table.c.system == system)
    if sobject is not None:
        query = query.where(table.c.object == sobject)
    return await conn.scalar(query.limit(1)) is not None


async def _saved(
    writer: BulkWriter,
    system: str,
    record_ids: list[str],
    sobject: str | None = None,
    columns: tuple[str, ...] = ("record_id", "object", "sent"),
) -> list[tuple[Any, ...]]:
    """The rows (``columns``) of these records."""
    where: dict[str, Any] = {"system": system}
    if sobject is not None:
        where["object"] = sobject
    found: list[tuple[Any, ...]] = []
    for part in chunked(record_ids, _IN_SIZE):
        found += await writer.fetch_in(t.push_sent_updates, columns, "record_id", part, where=where)
    return found


async def _replace(
    writer: BulkWriter, system: str, record_ids: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Delete the rows of ``record_ids`` and insert ``rows`` (in ``_COLUMNS`` order)."""
    for part in chunked(record_ids, _IN_SIZE):
        await writer.delete_in(t.push_sent_updates, "record_id", part, {"system": system})
    await writer.insert(t.push_sent_updates, _COLUMNS, rows)


async def forget_sent_fields(
    conn: AsyncConnection, system: str, done: Mapping[str, Collection[str]]
) -> None:
    """Drop the fields whose outcome is known (record id -> fields) from the saved update
    attempts of ``system``, in the caller's transaction; a record with no field left loses
    its row. The push's commit of its links calls this, so a push dying between committing
    and forgetting leaves nothing behind."""
    if not done or not await _any_saved(conn, system):
        return
    writer = BulkWriter(conn)
    touched: list[str] = []
    partly: dict[str, dict[str, Any]] = {}
    for record_id, sent in await _saved(writer, system, list(done), columns=("record_id", "sent")):
        fields = done[record_id]
        touched.append(record_id)
        left = {name: value for name, value in sent.items() if name not in fields}
        if left:
            partly[record_id] = left
    kept: list[tuple[Any, ...]] = []
    if partly:  # rare: fields of an earlier attempt this page did not send again
        columns = ("record_id", "object", "at")
        for record_id, sobject, at in await _saved(writer, system, list(partly), columns=columns):
            kept.append((system, record_id, sobject, at, partly[record_id]))
    if touched:
        await _replace(writer, system, touched, kept)


class SentUpdateStore:
    """Saved update attempts, keyed by system and record id."""

    engine: AsyncEngine

    async def save_sent_updates(
        self, system: str, sobject: str, sent: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> None:
        """Save the values about to be sent to update records of ``sobject`` (record id ->
        values), merged over the values an earlier attempt on the same record and object left,
        in one transaction."""
        if not sent:
            return
        ids = list(sent)
        async with self.engine.begin() as conn:
            writer = BulkWriter(conn)
            before: dict[str, dict[str, Any]] = {}
            if await _any_saved(conn, system):
                for record_id, saved_object, values in await _saved(writer, system, ids):
                    if saved_object == sobject:
                        before[record_id] = dict(values)
                await _replace(writer, system, ids, [])
            rows = [(system, rid, sobject, at, {**before.get(rid, {}), **sent[rid]}) for rid in ids]
            await writer.insert(t.push_sent_updates, _COLUMNS, rows)

    async def sent_updates(
        self, system: str, sobject: str, record_ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """Of these records, those with values an update of ``sobject`` sent and whose outcome
        is not known: record id -> field -> value."""
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await _saved(BulkWriter(conn), system, ids, sobject)
        return {str(rid): dict(sent) for rid, _, sent in rows if sent}

    async def has_sent_updates(self, system: str, sobject: str | None = None) -> bool:
        """Whether any update attempt (of ``sobject``, when given) is saved for ``system``: a
        cheap check before looking records up."""
        async with self.engine.connect() as conn:
            return await _any_saved(conn, system, sobject)

    async def forget_sent_updates(self, system: str, done: Mapping[str, Collection[str]]) -> None:
        """Drop the fields whose outcome is known (record id -> fields), in a transaction of
        its own (see ``forget_sent_fields``)."""
        if not done:
            return
        async with self.engine.begin() as conn:
            await forget_sent_fields(conn, system, done)


__all__ = ["SentUpdateStore", "forget_sent_fields"]
