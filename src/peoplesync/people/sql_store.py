"""The People store on SQLAlchemy Core: SQLite by default, PostgreSQL in production.

Writes go in batches; each batch is one transaction that holds the rows and their change-log
entries, so a crash leaves either the whole batch or none of it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import (
    BatchValidationError,
    StalePersonsError,
    TransientDatabaseError,
)
from peoplesync.people import tables as t
from peoplesync.people.attribute import (
    AttributeDefinition,
)
from peoplesync.people.attribute_store import AttributeStore
from peoplesync.people.bulk_writer import BulkWriter, paused_gc
from peoplesync.people.change_log import ChangeWriter, changed_at, read_changes
from peoplesync.people.change_signal import open_waiter
from peoplesync.people.change_waiter import ChangeWaiter
from peoplesync.people.company_store import CompanyStore
from peoplesync.people.contact_point import email_key
from peoplesync.people.create_attempt_store import CreateAttemptStore
from peoplesync.people.model import Change, ExternalLink, Person, PersonInput, UpsertResult
from peoplesync.people.person_filter import SegmentRule
from peoplesync.people.person_rows import (
    PERSON_COLUMNS,
    UPDATED_COLUMNS,
    UPDATED_SLICE,
    chunked,
    email_owners,
    load_states,
    person_row,
    set_state,
    to_person,
)
from peoplesync.people.planner import (
    PersonPlan,
    Prepared,
    plan_person_upserts,
    prepare_input,
    prepare_inputs,
)
from peoplesync.people.removal_store import RemovalStore
from peoplesync.people.segment_store import SegmentStore
from peoplesync.people.sent_update_store import SentUpdateStore

_RETRIES = 3
_RACED_RETRIES = 12  # plans overtaken by other writers of the same persons


class _Overtaken(Exception):
    """A person row changed between the plan's read and its write (another writer)."""


_SLICE = 250  # inputs validated between two chances for a concurrent write to proceed


class SqlPeopleStore(
    AttributeStore, CompanyStore, RemovalStore, CreateAttemptStore, SentUpdateStore
):
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
        await set_state(conn, key, value, self.clock.now())

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
        owners = await email_owners(conn, keys)
        wanted = set(owners.values()) | {e.item.id for e in prepared if e.item.id}
        existing = await load_states(conn, wanted)
        return plan_person_upserts(
            prepared,
            existing=existing,
            email_owners=owners,
            definitions=definitions,
            now=self.clock.now(),
        )

    async def _write(self, conn: AsyncConnection, plan: PersonPlan, origin: str) -> None:
        writer = BulkWriter(conn)
        await writer.insert(t.persons, PERSON_COLUMNS, [person_row(s) for s in plan.inserts])
        # Each row only if it still has the version planned on: the plan read it outside of
        # any lock (SQLite reads before its first write are not in the transaction, and
        # PostgreSQL reads committed), and writing over a newer row would lose that write.
        updated = await writer.update(
            t.persons,
            "id",
            UPDATED_COLUMNS,
            [(*person_row(s)[UPDATED_SLICE], s.id, s.version - 1) for s in plan.updates],
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
            states = await load_states(conn, ids)
        return {pid: to_person(state, definitions) for pid, state in states.items()}

    async def find_by_emails(self, emails: Iterable[str]) -> dict[str, str]:
        """Person ids by email key for the addresses that are known."""
        keys = {email_key(e) for e in emails}
        if not keys:
            return {}
        async with self.engine.connect() as conn:
            return await email_owners(conn, keys)

    async def segment_rules(self, names: Iterable[str]) -> dict[str, SegmentRule]:
        """Membership rules of the named saved segments (see ``SegmentStore.rules``)."""
        return await SegmentStore(self.engine, self.clock).rules(names, await self.attributes())

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
