"""A push's create attempts in the SQL People store: the values sent for each person, one
row a person (``sync.outbound.attempts`` says what they are for)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.model import ExternalLink
from peoplesync.people.person_rows import chunked

_IN_SIZE = 5000  # person ids in one IN list
_COLUMNS = ("system", "person_id", "object", "at", "sent")


async def drop_linked_attempts(conn: AsyncConnection, links: Sequence[ExternalLink]) -> None:
    """Drop the create attempts of the persons these links link, in the caller's transaction:
    a person linked in a system has no create attempt left there (so none is left behind by
    a push dying between committing its links and forgetting its attempts)."""
    by_system: dict[str, list[str]] = {}
    for link in links:
        if link.entity_type == "person":
            by_system.setdefault(link.system, []).append(link.entity_id)
    writer = BulkWriter(conn)
    table = t.push_create_attempts
    for system, ids in by_system.items():
        # Most commits link persons of no attempt (updates): one indexed read, no deletes.
        any_saved = sa.select(sa.literal(1)).where(table.c.system == system).limit(1)
        if await conn.scalar(any_saved) is None:
            continue
        for part in chunked(list(dict.fromkeys(ids)), _IN_SIZE):
            await writer.delete_in(t.push_create_attempts, "person_id", part, {"system": system})


class CreateAttemptStore:
    """Saved create attempts, keyed by system and person id."""

    engine: AsyncEngine

    async def save_create_attempts(
        self, system: str, sobject: str, sent: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> None:
        """Save (or replace) the values about to be sent to create a record of ``sobject`` for
        each person (person id -> values), in one transaction."""
        if not sent:
            return
        ids = list(sent)
        async with self.engine.begin() as conn:
            writer = BulkWriter(conn)
            for part in chunked(ids, _IN_SIZE):
                await writer.delete_in(
                    t.push_create_attempts, "person_id", part, {"system": system}
                )
            rows = [(system, pid, sobject, at, dict(sent[pid])) for pid in ids]
            await writer.insert(t.push_create_attempts, _COLUMNS, rows)

    async def create_attempts(
        self, system: str, sobject: str, person_ids: Iterable[str] | None
    ) -> dict[str, dict[str, Any]]:
        """The values sent by the saved attempts to create a ``sobject`` record for these
        persons (person id -> values; persons without one are left out), or for every person
        when ``person_ids`` is None."""
        found: dict[str, dict[str, Any]] = {}
        if person_ids is None:
            table = t.push_create_attempts
            query = sa.select(table.c.person_id, table.c.sent).where(
                table.c.system == system, table.c.object == sobject
            )
            async with self.engine.connect() as conn:
                every = (await conn.execute(query)).all()
            return {str(pid): dict(sent) for pid, sent in every}
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return found
        async with self.engine.connect() as conn:
            writer = BulkWriter(conn)
            for part in chunked(ids, _IN_SIZE):
                rows = await writer.fetch_in(
                    t.push_create_attempts,
                    ("person_id", "sent"),
                    "person_id",
                    part,
                    where={"system": system, "object": sobject},
                )
                found.update((pid, dict(sent)) for pid, sent in rows)
        return found

    async def has_create_attempts(self, system: str, sobject: str | None = None) -> bool:
        """Whether any create attempt (of ``sobject``, when given) is saved for ``system``: a
        cheap check before looking persons up."""
        table = t.push_create_attempts
        query = sa.select(sa.literal(1)).where(table.c.system == system)
        if sobject is not None:
            query = query.where(table.c.object == sobject)
        async with self.engine.connect() as conn:
            found = await conn.scalar(query.limit(1))
        return found is not None

    async def forget_create_attempts(self, system: str, person_ids: Sequence[str]) -> None:
        """Drop the attempts of these persons (their outcome is known)."""
        if not person_ids:
            return
        async with self.engine.begin() as conn:
            writer = BulkWriter(conn)
            for part in chunked(list(dict.fromkeys(person_ids)), _IN_SIZE):
                await writer.delete_in(
                    t.push_create_attempts, "person_id", part, {"system": system}
                )


__all__ = ["CreateAttemptStore", "drop_linked_attempts"]
