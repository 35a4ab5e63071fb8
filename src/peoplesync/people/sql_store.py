"""The People store on SQLAlchemy Core: SQLite by default, PostgreSQL in production.

Writes go in batches; each batch is one transaction that holds the rows and their change-log
entries, so a crash leaves either the whole batch or none of it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import (
    BatchValidationError,
    StalePersonsError,
    TransientDatabaseError,
    ValidationError,
)
from peoplesync.people import tables as t
from peoplesync.people.attribute import (
    AttributeDefinition,
    AttributeType,
    check_attribute_name,
    decode_value,
)
from peoplesync.people.bulk_writer import BulkWriter, paused_gc
from peoplesync.people.change_log import ChangeWriter, changed_at, read_changes
from peoplesync.people.change_signal import open_waiter
from peoplesync.people.change_waiter import ChangeWaiter
from peoplesync.people.company_store import CompanyStore
from peoplesync.people.contact_point import EmailAddress, email_key
from peoplesync.people.link_store import LinkStore
from peoplesync.people.model import Change, ExternalLink, Person, PersonInput, UpsertResult
from peoplesync.people.planner import (
    STANDARD_NAMES,
    PersonPlan,
    PersonState,
    Prepared,
    plan_person_upserts,
    prepare_input,
    prepare_inputs,
)

_RETRIES = 3
_RACED_RETRIES = 12  # plans overtaken by other writers of the same persons


class _Overtaken(Exception):
    """A person row changed between the plan's read and its write (another writer)."""


_SLICE = 250  # inputs validated between two chances for a concurrent write to proceed


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Successive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SqlPeopleStore(CompanyStore, LinkStore):
    """PeopleStore on an async SQLAlchemy engine (migrated with ``database.migrate``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        batch_size: int = 5000,
        default_phone_region: str | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.batch_size = batch_size
        self.default_phone_region = default_phone_region
        self._definitions: dict[str, AttributeDefinition] | None = None

    # --- attributes ------------------------------------------------------------------

    async def attributes(self) -> dict[str, AttributeDefinition]:
        """Every custom attribute definition by name (cached; refreshed on change)."""
        if self._definitions is None:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(sa.select(t.attribute_definitions))).all()
            self._definitions = {
                r.name: AttributeDefinition(
                    r.name, AttributeType(r.type), r.mandatory, r.description
                )
                for r in rows
            }
        return dict(self._definitions)

    async def define_attribute(self, definition: AttributeDefinition, *, origin: str) -> None:
        """Create or change a custom attribute; its type cannot change once values exist."""
        check_attribute_name(definition.name)
        current = (await self.attributes()).get(definition.name)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if current is not None and current.type is not definition.type:
                used = await conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(t.persons)
                    .where(_attribute_present(conn, definition.name))
                )
                if used:
                    raise ValidationError(
                        f"cannot change the type from {current.type} to {definition.type}: "
                        f"{used} person(s) have a value",
                        record=f"attribute {definition.name!r}",
                        field="type",
                        hint="create a new attribute and copy the values over",
                    )
            values = {
                "type": definition.type.value,
                "mandatory": definition.mandatory,
                "description": definition.description,
            }
            if current is None:
                await conn.execute(
                    t.attribute_definitions.insert(),
                    {"name": definition.name, "created_at": now, **values},
                )
            else:
                await conn.execute(
                    t.attribute_definitions.update()
                    .where(t.attribute_definitions.c.name == definition.name)
                    .values(**values)
                )
            before = None if current is None else _definition_dict(current)
            await ChangeWriter(conn, now, origin).write_one(
                "attribute",
                definition.name,
                "create" if current is None else "update",
                1,
                {"definition": [before, _definition_dict(definition)]},
            )
        self._definitions = None

    async def count_lacking(self, name: str) -> int:
        """How many persons have no value for the custom attribute ``name``."""
        async with self.engine.connect() as conn:
            lacking = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(t.persons)
                .where(sa.not_(_attribute_present(conn, name)))
            )
        return int(lacking or 0)

    # --- persons ---------------------------------------------------------------------

    async def upsert_persons(
        self, inputs: Iterable[PersonInput], *, origin: str, reject_invalid: bool = False
    ) -> UpsertResult:
        """Create or update persons in batches of ``batch_size``, one transaction each.

        While one batch is written, the next is validated, so CPU work and database work
        overlap.
        """
        definitions = await self.attributes()
        total = UpsertResult()
        chunks = iter(chunked(inputs, self.batch_size))
        index = 0
        with paused_gc():
            first = next(chunks, None)
            prepared = await self._prepare(first, definitions, index) if first is not None else None
            while prepared is not None:
                writing = asyncio.ensure_future(
                    self._upsert_chunk(prepared, definitions, origin, reject_invalid)
                )
                index += len(prepared)
                following = next(chunks, None)
                try:
                    upcoming = (
                        await self._prepare(following, definitions, index)
                        if following is not None
                        else None
                    )
                finally:
                    result = await writing
                total.merge(result)
                prepared = upcoming
        return total

    async def _prepare(
        self, chunk: list[PersonInput], definitions: dict[str, AttributeDefinition], first: int
    ) -> list[Prepared]:
        """Validate a chunk in slices, letting a concurrent write make progress in between."""
        prepared: list[Prepared] = []
        for start in range(0, len(chunk), _SLICE):
            prepared += prepare_inputs(
                chunk[start : start + _SLICE],
                definitions,
                default_region=self.default_phone_region,
                today=self.clock.now().date(),
                first_index=first + start,
            )
            await asyncio.sleep(0)
        return prepared

    async def validate_inputs(self, inputs: Sequence[PersonInput]) -> list[Prepared]:
        """Validate inputs ahead of ``apply_batch``, in slices that let other work proceed."""
        return await self._prepare(list(inputs), await self.attributes(), 0)

    async def apply_batch(
        self,
        inputs: Sequence[PersonInput | Prepared],
        *,
        origin: str,
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None = None,
        dry_run: bool = False,
        also: Callable[[AsyncConnection, UpsertResult], Awaitable[None]] | None = None,
    ) -> UpsertResult:
        """Upsert one batch, then save its links, a sync-state value and what ``also``
        writes (a sync's error entries), in one transaction.

        ``inputs`` may hold results of ``validate_inputs`` (validated ahead, while another
        batch was written). ``links`` receives the person id of every input (None when
        rejected) and returns the links to save; ``state`` is a (key, value) pair such as a
        cursor. A crash leaves all of it or none of it. ``dry_run`` plans the batch and
        writes nothing.
        """
        definitions = await self.attributes()
        today = self.clock.now().date()
        prepared: list[Prepared] = []
        for start in range(0, len(inputs), _SLICE):
            prepared += [
                item
                if isinstance(item, Prepared)
                else prepare_input(
                    item,
                    definitions,
                    default_region=self.default_phone_region,
                    today=today,
                    index=start + offset,
                )
                for offset, item in enumerate(inputs[start : start + _SLICE])
            ]
            await asyncio.sleep(0)

        async def after(conn: AsyncConnection, result: UpsertResult) -> None:
            await self._save_links(conn, links(result.ids))
            if state is not None:
                await self._set_state(conn, *state)
            if also is not None:
                await also(conn, result)

        with paused_gc():
            return await self._upsert_chunk(
                prepared, definitions, origin, True, after, dry_run=dry_run
            )

    async def get_state(self, key: str) -> dict[str, Any] | None:
        """A sync-state value (a cursor...) or None."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(t.sync_state.c.value).where(t.sync_state.c.key == key)
            )
        return dict(value) if value is not None else None

    async def set_state(self, key: str, value: dict[str, Any]) -> None:
        """Store a sync-state value on its own."""
        async with self.engine.begin() as conn:
            await self._set_state(conn, key, value)

    async def _set_state(self, conn: AsyncConnection, key: str, value: dict[str, Any]) -> None:
        await conn.execute(t.sync_state.delete().where(t.sync_state.c.key == key))
        await conn.execute(
            t.sync_state.insert(), {"key": key, "value": value, "updated_at": self.clock.now()}
        )

    async def _upsert_chunk(
        self,
        prepared: list[Prepared],
        definitions: dict[str, AttributeDefinition],
        origin: str,
        reject_invalid: bool,
        after: Callable[[AsyncConnection, UpsertResult], Awaitable[None]] | None = None,
        *,
        dry_run: bool = False,
    ) -> UpsertResult:
        raced = 0
        attempt = 0
        while True:
            try:
                async with self.engine.begin() as conn:
                    plan = await self._plan(conn, prepared, definitions)
                    if plan.stale:
                        raise StalePersonsError(plan.stale)
                    if plan.result.rejected and not reject_invalid:
                        raise BatchValidationError(plan.result.rejected)
                    if dry_run:
                        return plan.result
                    await self._write(conn, plan, origin)
                    if after is not None:
                        await after(conn, plan.result)
                return plan.result
            except (IntegrityError, _Overtaken):
                # Another writer took an email, or wrote a person, between our read and our
                # write: plan again on what is stored now. Each time, some writer got through,
                # so a few writers of one person take turns.
                raced += 1
                if raced == _RACED_RETRIES:
                    raise TransientDatabaseError(
                        "persons changed concurrently while this batch was written",
                        hint="retry the batch",
                    ) from None
                await asyncio.sleep(random.uniform(0, 0.002 * raced))
            except OperationalError as exc:
                attempt += 1
                if attempt == _RETRIES:
                    raise TransientDatabaseError(f"database unavailable: {exc.orig}") from None

    async def _plan(
        self,
        conn: AsyncConnection,
        prepared: list[Prepared],
        definitions: dict[str, AttributeDefinition],
    ) -> PersonPlan:
        keys = {key for entry in prepared for key in entry.email_keys}
        owners = await _email_owners(conn, keys)
        wanted = set(owners.values()) | {e.item.id for e in prepared if e.item.id}
        existing = await self._load_states(conn, wanted)
        return plan_person_upserts(
            prepared,
            existing=existing,
            email_owners=owners,
            definitions=definitions,
            now=self.clock.now(),
        )

    async def _load_states(
        self, conn: AsyncConnection, ids: Iterable[str]
    ) -> dict[str, PersonState]:
        states: dict[str, PersonState] = {}
        reader = BulkWriter(conn)
        for part in chunked(ids, 10_000):
            for row in await reader.fetch_in(t.persons, _PERSON_COLUMNS, "id", part):
                states[row[0]] = PersonState(
                    id=row[0],
                    created_at=row[1],
                    standard=dict(zip(STANDARD_NAMES, row[2:_STANDARD_END], strict=True)),
                    version=row[_STANDARD_END],
                    company_id=row[_STANDARD_END + 1],
                    attributes=dict(row[_STANDARD_END + 2]),
                    updated_at=row[_STANDARD_END + 3],
                    emails=(),
                    phones=(),
                )
            emails = await reader.fetch_in(
                t.person_emails,
                ("person_id", "address", "email_key"),
                "person_id",
                part,
                order_by=("person_id", "position"),
            )
            for person_id, address, key in emails:
                state = states[person_id]
                state.emails = (*state.emails, EmailAddress(address, key))
            phones = await reader.fetch_in(
                t.person_phones,
                ("person_id", "number"),
                "person_id",
                part,
                order_by=("person_id", "position"),
            )
            for person_id, number in phones:
                states[person_id].phones = (*states[person_id].phones, number)
        return states

    async def _write(self, conn: AsyncConnection, plan: PersonPlan, origin: str) -> None:
        writer = BulkWriter(conn)
        await writer.insert(t.persons, _PERSON_COLUMNS, [_person_row(s) for s in plan.inserts])
        # Each row only if it still has the version planned on: the plan read it outside of
        # any lock (SQLite reads before its first write are not in the transaction, and
        # PostgreSQL reads committed), and writing over a newer row would lose that write.
        updated = await writer.update(
            t.persons,
            "id",
            _UPDATED_COLUMNS,
            [(*_person_row(s)[_UPDATED_SLICE], s.id, s.version - 1) for s in plan.updates],
            guards=("version",),
        )
        if updated != len(plan.updates):
            raise _Overtaken
        for table, states in (
            (t.person_emails, plan.rewrite_emails),
            (t.person_phones, plan.rewrite_phones),
        ):
            for part in chunked([s.id for s in states], 10_000):
                await conn.execute(table.delete().where(table.c.person_id.in_(part)))
        await writer.insert(
            t.person_emails,
            ("person_id", "position", "address", "email_key"),
            [
                (s.id, i, e.address, e.key)
                for s in (*plan.inserts, *plan.rewrite_emails)
                for i, e in enumerate(s.emails)
            ],
        )
        await writer.insert(
            t.person_phones,
            ("person_id", "position", "number"),
            [
                (s.id, i, n)
                for s in (*plan.inserts, *plan.rewrite_phones)
                for i, n in enumerate(s.phones)
            ],
        )
        await ChangeWriter(conn, self.clock.now(), origin).write(plan.changes, "person")

    async def get_persons(self, ids: Sequence[str]) -> dict[str, Person]:
        """Persons by id (missing ids are left out)."""
        definitions = await self.attributes()
        async with self.engine.connect() as conn:
            states = await self._load_states(conn, ids)
        return {pid: _to_person(state, definitions) for pid, state in states.items()}

    async def find_by_emails(self, emails: Iterable[str]) -> dict[str, str]:
        """Person ids by email key for the addresses that are known."""
        keys = {email_key(e) for e in emails}
        if not keys:
            return {}
        async with self.engine.connect() as conn:
            return await _email_owners(conn, keys)

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
        states = await self._load_states(conn, ids)
        links = await self._links_of(conn, "person", list(states))
        drafts = []
        for state in states.values():
            snapshot = _snapshot(state)
            snapshot["links"] = [
                [link.system, link.object, link.external_id] for link in links.get(state.id, [])
            ]
            drafts.append((state.id, state.version + 1, snapshot))
        found = list(states)
        for table, column in (
            (t.person_emails, t.person_emails.c.person_id),
            (t.person_phones, t.person_phones.c.person_id),
            (t.timeline_events, t.timeline_events.c.person_id),
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
        for person_id, version, snapshot in drafts:
            await writer.write_one("person", person_id, "delete", version, snapshot)
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
    ) -> None:
        """Follow removals on the other side in one transaction: forget links
        (system, object, external id), save links, merge persons (absorbed, survivor),
        delete persons, and store a sync-state value with them."""
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
            for absorbed, survivor in merge:
                await self._merge_person(conn, absorbed, survivor, origin)
            if delete:
                await self._delete_persons(conn, list(dict.fromkeys(delete)), origin)
            if state is not None:
                await self._set_state(conn, *state)

    async def _merge_person(
        self, conn: AsyncConnection, absorbed: str, survivor: str, origin: str
    ) -> None:
        """Move one person's emails, phones, links and timeline to another and fill the
        survivor's empty attributes from it; then delete the absorbed person."""
        states = await self._load_states(conn, [absorbed, survivor])
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

    async def count_persons(self) -> int:
        """How many persons the store holds."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(t.persons)) or 0)

    # --- change log ------------------------------------------------------------------

    async def changes_since(self, seq: int, *, limit: int = 1000) -> list[Change]:
        """Change-log entries after ``seq``, oldest first."""
        async with self.engine.connect() as conn:
            return await read_changes(conn, seq, limit)

    async def last_change_seq(self) -> int:
        """The highest sequence number in the change log (0 when empty)."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.max(t.change_log.c.seq))) or 0)

    async def change_waiter(self) -> ChangeWaiter:
        """A waiter woken when People changes commit (close it when done)."""
        return await open_waiter(self.engine)

    async def changed_at(
        self, wanted: Mapping[str, Collection[str]]
    ) -> dict[str, dict[str, datetime]]:
        """When each wanted attribute of each person (id -> names) last changed."""
        async with self.engine.connect() as conn:
            return await changed_at(conn, wanted)


_PERSON_COLUMNS = (
    "id",
    "created_at",
    *STANDARD_NAMES,
    "version",
    "company_id",
    "attributes",
    "updated_at",
)
_UPDATED_SLICE = slice(2, None)
_STANDARD_END = 2 + len(STANDARD_NAMES)
_UPDATED_COLUMNS = _PERSON_COLUMNS[_UPDATED_SLICE]


async def _email_owners(conn: AsyncConnection, keys: Iterable[str]) -> dict[str, str]:
    """Person ids by email key, for the keys that are taken."""
    owners: dict[str, str] = {}
    reader = BulkWriter(conn)
    for part in chunked(keys, 10_000):
        rows = await reader.fetch_in(t.person_emails, ("email_key", "person_id"), "email_key", part)
        owners.update(rows)
    return owners


def _person_row(state: PersonState) -> tuple[Any, ...]:
    standard = state.standard
    return (
        state.id,
        state.created_at,
        *[standard.get(name) for name in STANDARD_NAMES],
        state.version,
        state.company_id,
        state.attributes,
        state.updated_at,
    )


def _snapshot(state: PersonState) -> dict[str, Any]:
    values: dict[str, Any] = {n: [v, None] for n, v in state.standard.items() if v is not None}
    values.update({n: [v, None] for n, v in state.attributes.items()})
    values["emails"] = [[e.address for e in state.emails], []]
    values["phones"] = [list(state.phones), []]
    return values


def _to_person(state: PersonState, definitions: dict[str, AttributeDefinition]) -> Person:
    standard = dict(state.standard)
    if standard.get("birth_date"):
        standard["birth_date"] = date.fromisoformat(standard["birth_date"])
    attributes = {
        name: decode_value(definitions[name].type, value) if name in definitions else value
        for name, value in state.attributes.items()
    }
    return Person(
        id=state.id,
        version=state.version,
        emails=tuple(e.address for e in state.emails),
        phones=state.phones,
        standard=standard,
        attributes=attributes,
        company_id=state.company_id,
        created_at=state.created_at,
        updated_at=state.updated_at,
    )


def _definition_dict(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "type": definition.type.value,
        "mandatory": definition.mandatory,
        "description": definition.description,
    }


def _attribute_present(conn: AsyncConnection, name: str) -> sa.ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return t.persons.c.attributes.op("?", return_type=sa.Boolean)(name)
    return sa.func.json_type(t.persons.c.attributes, f'$."{name}"').is_not(None)
