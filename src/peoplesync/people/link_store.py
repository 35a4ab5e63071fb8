"""Links to external records and timeline events in the SQL store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import NotFoundError
from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.model import EntityType, ExternalLink, TimelineEvent, new_id

_IN_SIZE = 10_000  # values in one IN list
_LINK_COLUMNS = ("entity_type", "entity_id", "external_id", "state", "synced_at")
_SAVED_COLUMNS = (
    "system",
    "object",
    "external_id",
    "entity_type",
    "entity_id",
    "state",
    "synced_at",
)
_KEY = ("system", "object", "external_id")


async def _upsert_links(conn: AsyncConnection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert or replace links (rows in ``_SAVED_COLUMNS`` order) on PostgreSQL, keyed by
    (system, object, external id); of rows with one key, the last."""
    last = {row[:3]: row for row in rows}
    insert = postgresql.insert(t.external_links)
    replace = {name: insert.excluded[name] for name in _SAVED_COLUMNS if name not in _KEY}
    await conn.execute(
        insert.on_conflict_do_update(index_elements=list(_KEY), set_=replace),
        [dict(zip(_SAVED_COLUMNS, row, strict=True)) for row in last.values()],
    )


def _link(row: Any) -> ExternalLink:
    return ExternalLink(
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        system=row.system,
        object=row.object,
        external_id=row.external_id,
        state=row.state,
        synced_at=row.synced_at,
    )


class LinkStore:
    """Link and timeline operations of the SQL People store."""

    engine: AsyncEngine
    clock: Clock

    async def save_links(self, links: Sequence[ExternalLink]) -> None:
        """Create or replace links, keyed by (system, object, external id)."""
        async with self.engine.begin() as conn:
            await self._save_links(conn, links)

    async def _save_links(self, conn: AsyncConnection, links: Sequence[ExternalLink]) -> None:
        if not links:
            return
        writer = BulkWriter(conn)
        for system, sobject in {(link.system, link.object) for link in links}:
            ids = [x.external_id for x in links if (x.system, x.object) == (system, sobject)]
            for part in range(0, len(ids), _IN_SIZE):
                await writer.delete_in(
                    t.external_links,
                    "external_id",
                    ids[part : part + _IN_SIZE],
                    where={"system": system, "object": sobject},
                )
        rows = [
            (
                x.system,
                x.object,
                x.external_id,
                x.entity_type,
                x.entity_id,
                dict(x.state),
                x.synced_at,
            )
            for x in links
        ]
        if not writer.postgres:  # one writer at a time: nothing came in since the delete
            await writer.insert(t.external_links, _SAVED_COLUMNS, rows)
            return
        try:
            async with conn.begin_nested():
                await writer.insert(t.external_links, _SAVED_COLUMNS, rows)
        except sa.exc.IntegrityError:
            # Another transaction committed a link to one of these records after the delete
            # above looked (the inbound sync linking a Lead a push created, while the push
            # commits its own link): replaced, as a link saved after it.
            await _upsert_links(conn, rows)

    async def find_links(
        self, system: str, sobject: str, external_ids: Iterable[str]
    ) -> dict[str, ExternalLink]:
        """Links by external id."""
        ids = list(external_ids)
        found: dict[str, ExternalLink] = {}
        if not ids:
            return found
        async with self.engine.connect() as conn:
            reader = BulkWriter(conn)
            for part in range(0, len(ids), _IN_SIZE):
                rows = await reader.fetch_in(
                    t.external_links,
                    _LINK_COLUMNS,
                    "external_id",
                    ids[part : part + _IN_SIZE],
                    where={"system": system, "object": sobject},
                )
                for row in rows:
                    found[row[2]] = ExternalLink(
                        entity_type=row[0],
                        entity_id=row[1],
                        system=system,
                        object=sobject,
                        external_id=row[2],
                        state=row[3],
                        synced_at=row[4],
                    )
        return found

    async def links_page(
        self, system: str, sobject: str, *, after: str = "", limit: int = 10_000
    ) -> list[ExternalLink]:
        """The links to records of ``sobject``, in external id order from after ``after``
        (keyset pages along the primary key)."""
        links = t.external_links.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(t.external_links)
                .where(links.system == system, links.object == sobject, links.external_id > after)
                .order_by(links.external_id)
                .limit(limit)
            )
            return [_link(row) for row in rows]

    async def links_of(
        self, entity_type: EntityType, entity_ids: Sequence[str]
    ) -> dict[str, list[ExternalLink]]:
        """Every link of the given persons or companies."""
        async with self.engine.connect() as conn:
            return await self._links_of(conn, entity_type, entity_ids)

    async def _links_of(
        self, conn: AsyncConnection, entity_type: EntityType, entity_ids: Sequence[str]
    ) -> dict[str, list[ExternalLink]]:
        found: dict[str, list[ExternalLink]] = {}
        rows = await conn.execute(
            sa.select(t.external_links).where(
                t.external_links.c.entity_type == entity_type,
                t.external_links.c.entity_id.in_(list(entity_ids)),
            )
        )
        for row in rows:
            found.setdefault(row.entity_id, []).append(_link(row))
        return found

    async def remove_links(self, system: str, sobject: str, external_ids: Sequence[str]) -> int:
        """Forget links; returns how many were removed."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.external_links.delete().where(
                    t.external_links.c.system == system,
                    t.external_links.c.object == sobject,
                    t.external_links.c.external_id.in_(list(external_ids)),
                )
            )
            return int(result.rowcount)

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[str]:
        """Append timeline events for existing persons; returns their ids."""
        if not events:
            return []
        ids = [e.id or new_id() for e in events]
        async with self.engine.begin() as conn:
            persons = {e.person_id for e in events}
            known = set(
                (
                    await conn.execute(sa.select(t.persons.c.id).where(t.persons.c.id.in_(persons)))
                ).scalars()
            )
            for event in events:
                if event.person_id not in known:
                    raise NotFoundError(
                        "no person has this id", record=f"event {event.kind}", field="person_id"
                    )
            await conn.execute(
                t.timeline_events.insert(),
                [
                    {
                        "id": event_id,
                        "person_id": e.person_id,
                        "kind": e.kind,
                        "source": e.source,
                        "occurred_at": e.occurred_at,
                        "data": dict(e.data),
                    }
                    for event_id, e in zip(ids, events, strict=True)
                ],
            )
        return ids

    async def timeline(self, person_id: str, *, limit: int = 100) -> list[TimelineEvent]:
        """A person's most recent events, newest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(t.timeline_events)
                .where(t.timeline_events.c.person_id == person_id)
                .order_by(t.timeline_events.c.occurred_at.desc(), t.timeline_events.c.id.desc())
                .limit(limit)
            )
            return [
                TimelineEvent(
                    id=r.id,
                    person_id=r.person_id,
                    kind=r.kind,
                    source=r.source,
                    occurred_at=r.occurred_at,
                    data=r.data,
                )
                for r in rows
            ]
