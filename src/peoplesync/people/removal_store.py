"""Following removals in the SQL People store: deleting persons (the change log keeps a
snapshot), merging one person into another, forgetting links, in one transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people import tables as t
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.change_log import ChangeWriter
from peoplesync.people.create_attempt_store import drop_linked_attempts
from peoplesync.people.link_store import LinkStore
from peoplesync.people.model import ExternalLink
from peoplesync.people.person_rows import chunked, load_states, set_state, snapshot
from peoplesync.people.planner import STANDARD_NAMES
from peoplesync.people.sent_update_store import forget_sent_fields


class RemovalStore(LinkStore):
    """Delete and merge operations of the SQL People store."""

    batch_size: int

    async def delete_persons(self, ids: Sequence[str], *, origin: str) -> list[str]:
        """Delete persons and everything hanging off them; the change log keeps a snapshot."""
        deleted: list[str] = []
        for part in chunked(ids, self.batch_size):
            async with self.engine.begin() as conn:
                deleted += await self._delete_persons(conn, part, origin)
        return deleted

    async def _delete_persons(
        self, conn: AsyncConnection, ids: Sequence[str], origin: str
    ) -> list[str]:
        states = await load_states(conn, ids)
        links = await self._links_of(conn, "person", list(states))
        drafts = []
        for state in states.values():
            kept = snapshot(state)
            kept["links"] = [
                [link.system, link.object, link.external_id] for link in links.get(state.id, [])
            ]
            drafts.append((state.id, state.version + 1, kept))
        found = list(states)
        for table, column in (
            (t.person_emails, t.person_emails.c.person_id),
            (t.person_phones, t.person_phones.c.person_id),
            (t.timeline_events, t.timeline_events.c.person_id),
            (t.push_create_attempts, t.push_create_attempts.c.person_id),
            (t.persons, t.persons.c.id),
        ):
            await conn.execute(table.delete().where(column.in_(found)))
        await conn.execute(
            t.external_links.delete().where(
                t.external_links.c.entity_type == "person",
                t.external_links.c.entity_id.in_(found),
            )
        )
        writer = ChangeWriter(conn, self.clock.now(), origin)
        for person_id, version, values in drafts:
            await writer.write_one("person", person_id, "delete", version, values)
        return found

    async def apply_removals(
        self,
        *,
        origin: str,
        unlink: Sequence[tuple[str, str, str]] = (),
        delete: Sequence[str] = (),
        merge: Sequence[tuple[str, str]] = (),
        link: Sequence[ExternalLink] = (),
        state: tuple[str, dict[str, Any]] | None = None,
        settled: tuple[str, Mapping[str, Collection[str]]] | None = None,
    ) -> None:
        """Follow removals on the other side in one transaction: forget links
        (system, object, external id), save links (dropping the linked persons' create
        attempts), merge persons (absorbed, survivor), delete persons, and store a
        sync-state value with them; ``settled`` (system, record id -> fields) drops the
        fields of saved update attempts whose outcome the push committing knows."""
        async with self.engine.begin() as conn:
            for system, sobject, external_id in unlink:
                await conn.execute(
                    t.external_links.delete().where(
                        t.external_links.c.system == system,
                        t.external_links.c.object == sobject,
                        t.external_links.c.external_id == external_id,
                    )
                )
            await self._save_links(conn, link)
            await drop_linked_attempts(conn, link)
            for absorbed, survivor in merge:
                await self._merge_person(conn, absorbed, survivor, origin)
            if delete:
                await self._delete_persons(conn, list(dict.fromkeys(delete)), origin)
            if state is not None:
                await set_state(conn, *state, self.clock.now())
            if settled is not None:
                await forget_sent_fields(conn, *settled)

    async def _merge_person(
        self, conn: AsyncConnection, absorbed: str, survivor: str, origin: str
    ) -> None:
        """Move one person's emails, phones, links and timeline to another and fill the
        survivor's empty attributes from it; then delete the absorbed person."""
        states = await load_states(conn, [absorbed, survivor])
        if absorbed == survivor or absorbed not in states or survivor not in states:
            return
        gone, kept = states[absorbed], states[survivor]
        standard = {
            name: kept.standard.get(name)
            if kept.standard.get(name) is not None
            else gone.standard.get(name)
            for name in STANDARD_NAMES
        }
        attributes = {**gone.attributes, **kept.attributes}
        keys = {e.key for e in kept.emails}
        emails = (*kept.emails, *(e for e in gone.emails if e.key not in keys))
        phones = tuple(dict.fromkeys((*kept.phones, *gone.phones)))
        for table, column in (
            (t.timeline_events, t.timeline_events.c.person_id),
            (t.external_links, t.external_links.c.entity_id),
        ):
            await conn.execute(
                table.update().where(column == absorbed).values({column.name: survivor})
            )
        await self._delete_persons(conn, [absorbed], origin)
        await conn.execute(t.person_emails.delete().where(t.person_emails.c.person_id == survivor))
        await conn.execute(t.person_phones.delete().where(t.person_phones.c.person_id == survivor))
        writer = BulkWriter(conn)
        await writer.insert(
            t.person_emails,
            ("person_id", "position", "address", "email_key"),
            [(survivor, i, e.address, e.key) for i, e in enumerate(emails)],
        )
        await writer.insert(
            t.person_phones,
            ("person_id", "position", "number"),
            [(survivor, i, n) for i, n in enumerate(phones)],
        )
        await conn.execute(
            t.persons.update()
            .where(t.persons.c.id == survivor)
            .values(
                **{n: v for n, v in standard.items() if n in t.persons.c},
                attributes=attributes,
                version=kept.version + 1,
                updated_at=self.clock.now(),
            )
        )
        changes: dict[str, Any] = {
            name: [kept.standard.get(name), value]
            for name, value in standard.items()
            if kept.standard.get(name) != value
        }
        changes |= {
            name: [kept.attributes.get(name), value]
            for name, value in attributes.items()
            if kept.attributes.get(name) != value
        }
        if len(emails) != len(kept.emails):
            changes["emails"] = [[e.address for e in kept.emails], [e.address for e in emails]]
        if len(phones) != len(kept.phones):
            changes["phones"] = [list(kept.phones), list(phones)]
        changes["merged_from"] = [None, absorbed]
        await ChangeWriter(conn, self.clock.now(), origin).write_one(
            "person", survivor, "update", kept.version + 1, changes
        )
