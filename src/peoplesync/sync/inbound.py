"""Salesforce -> People for one step: poll by SystemModstamp, map, match, write with the cursor.

Each batch of records is one People transaction holding the persons, their links (with the
record's last synced values) and the step's cursor, so a crash resumes exactly where the last
batch ended. A record whose mapped values equal its link's last synced state is skipped, which
makes re-reading the overlap window free and keeps our own echoes from becoming changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import RecordError, StalePersonsError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.model import ExternalLink, Person, UpsertResult
from peoplesync.people.planner import Prepared, with_company
from peoplesync.people.store import BatchWrite, PeopleStore
from peoplesync.salesforce.bulk import PAGE_SIZE
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.soql import guard_where, select, soql
from peoplesync.salesforce.streaming import ALL_RETAINED, ChangeStream
from peoplesync.sync.bulk_read import bulk_batches
from peoplesync.sync.conflict import Conflict, Moment, Side, attributes_to_time, losing, settle
from peoplesync.sync.cursor import (
    DEFAULT_OVERLAP,
    BulkProgress,
    Cursor,
    advance,
    count_query,
    dump_state,
    load_state,
    parse_modstamp,
    poll_query,
    position,
)
from peoplesync.sync.inbound_draft import Drafted, draft_batch
from peoplesync.sync.inbound_match import companies, company_to_set, keep_pushed, primaries
from peoplesync.sync.inbound_plan import (
    BatchPlan,
    contribution,
    duplicate_note,
    lead_conversion,
    passes_over,
    person_input,
    source,
)
from peoplesync.sync.inbound_problems import Marks, batch_problems
from peoplesync.sync.inbound_removals import follow_removals
from peoplesync.sync.inbound_report import InboundReport, collect_samples, in_salesforce_terms
from peoplesync.sync.inbound_step import InboundStep
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound_plan import person_values

# REST reads 2,000 records a call; a Bulk API 2.0 job costs about 3 calls (create, poll,
# describe once per client) plus one per 50,000-record page, and the COUNT one more. Bulk
# costs fewer calls from about 8,000 records on; at 10,000 it is 5 calls against REST's 5,
# at 100,000 5 against 50, at 1,000,000 24 against 500. Below 10,000 the job's queueing delay
# on a real org (seconds) and the daily job allowance are not worth the saving.
BULK_THRESHOLD = 10_000
# Records a bulk-read batch (one transaction). Two batches are in memory at a time (one
# written, the next drafted), so 2,500 keeps a 1,000,000-record transfer under 400 MB; 5,000
# saved about 5% of the CPU and peaked at 421 MB (docs/benchmarks.md).
BULK_BATCH = 2500
# Polls whose cursor is older than this may hold many changes: count them first.
COUNT_AFTER = timedelta(hours=1)
# Times a batch is decided again when persons change in People while it is written.
STALE_RETRIES = 5


class InboundRunner:
    """Runs one inbound step against a Salesforce client and the People store."""

    def __init__(
        self,
        client: SalesforceClient,
        store: PeopleStore,
        step: InboundStep,
        clock: Clock,
        *,
        batch_size: int = 2000,
        overlap: timedelta = DEFAULT_OVERLAP,
        bulk_threshold: int | None = BULK_THRESHOLD,
        bulk_batch_size: int = BULK_BATCH,
        bulk_page_size: int = PAGE_SIZE,
        count_after: timedelta = COUNT_AFTER,
        dry_run: bool = False,
        force: bool = False,
        tally: bool = False,
        label: str | None = None,
    ) -> None:
        """``dry_run`` plans every batch and writes nothing (a preview); ``force`` applies
        every mapped field of every record read, even unchanged ones (a resync). ``label``
        is the step its error entries are kept under in the status (the step's name).

        ``tally`` (transfers) keeps the count of records read under the step's position,
        committed with each batch, and reports progress from it: a read that resumes after
        a crash counts on from what was committed instead of from zero, and records the
        overlap reads again (at or before the committed position) are not counted twice."""
        self.client = client
        self.dry_run = dry_run
        self.force = force
        self.tally = tally
        # With ``tally``: records read under the position, as committed with it.
        self._tally = 0
        self.store = store
        self.step = step
        self.label = label or step.name or step.sobject
        self.clock = clock
        self.batch_size = batch_size
        self.overlap = overlap
        self.bulk_threshold = bulk_threshold
        self.bulk_batch_size = bulk_batch_size
        self.bulk_page_size = bulk_page_size
        self.count_after = count_after
        # When the last poll of this runner that completed started: an old cursor of a quiet
        # object is not a stopped sync when this runner polled it a moment ago.
        self._polled_at: datetime | None = None
        # Polling and streaming may share a runner; one batch is applied at a time so a new
        # record seen by both is linked once.
        self._applying = asyncio.Lock()
        # Share of new (unlinked) records in the last batch applied: above one half, the next
        # batch's records are mapped and validated as new persons ahead.
        self._new_share = 0.0

    async def run_once(
        self,
        progress: Callable[[int, int], Any] | None = None,
        *,
        report: InboundReport | None = None,
    ) -> InboundReport:
        """Read everything changed since the cursor (all records the first time) and apply it.

        ``progress`` is called with (records done, records in all) after every batch. A
        ``report`` given by the caller holds what the committed batches did even when the run
        stops on an error.

        Reads of ``bulk_threshold`` records or more go through one Bulk API 2.0 job, smaller
        ones through REST pages (see ``BULK_THRESHOLD``). The size is estimated with a
        ``SELECT COUNT()`` over the poll's WHERE only when it may be large: on the first load,
        and when neither the cursor nor this runner's last completed poll is within
        ``count_after`` (the sync was stopped for a while; a quiet object polled a moment ago
        is not counted again on every poll).
        A recent cursor means a routine poll of a few changes; the COUNT call would cost as
        much as the REST page that answers most such polls, so REST starts directly and its
        first page's ``totalSize`` (free) switches to the bulk path if the read is large after
        all. An interrupted bulk read resumes from its job before anything else.
        """
        report = report if report is not None else InboundReport()
        started = self.clock.now()
        stored = await self.store.get_state(self.step.cursor_key)
        cursor, resume = load_state(stored)
        if self.tally:
            self._tally = int((stored or {}).get("read") or 0)
        bulk = resume is not None
        if resume is None:
            switch_at = self.bulk_threshold
            if switch_at is not None and self._worth_counting(cursor):
                query = count_query(
                    self.step.sobject, cursor, overlap=self.overlap, condition=self.step.condition
                )
                bulk = await self.client.count(query) >= switch_at
                switch_at = None  # decided by the count
            if not bulk:
                bulk = not await self._read_rest(cursor, report, progress, switch_at=switch_at)
        if bulk:
            await self._read_bulk(cursor, resume, report, progress)
        self._polled_at = started
        return report

    def _worth_counting(self, cursor: Cursor | None) -> bool:
        if cursor is None:
            return True
        since = cursor.modstamp
        if self._polled_at is not None and self._polled_at > since:
            since = self._polled_at  # everything up to then was read by the last poll
        return self.clock.now() - since >= self.count_after

    async def _read_rest(
        self,
        cursor: Cursor | None,
        report: InboundReport,
        progress: Callable[[int, int], Any] | None,
        *,
        switch_at: int | None = None,
    ) -> bool:
        """Read through REST pages; False, with nothing applied, when the first page says
        the read has ``switch_at`` records or more."""
        total = 0

        def remember(size: int) -> None:
            nonlocal total
            total = size
            if progress is not None and (switch_at is None or size < switch_at):
                progress(self._counted(report) if self.tally else 0, self._counted(report, size))

        soql = poll_query(
            self.step.sobject,
            self.step.fields(),
            cursor,
            overlap=self.overlap,
            condition=self.step.condition,
        )
        batch: list[dict[str, Any]] = []
        # After the first load, deleted records come too (queryAll), so deletes and merges
        # are followed.
        records = self.client.query(soql, include_deleted=cursor is not None, on_total=remember)
        async for record in records:
            if switch_at is not None and total >= switch_at:
                return False
            batch.append(record)
            if len(batch) >= self.batch_size:
                cursor = await self._apply(batch, cursor, report)
                batch = []
                if progress is not None:
                    progress(self._counted(report), self._counted(report, total))
        if batch:
            await self._apply(batch, cursor, report)
        if progress is not None:
            progress(self._counted(report), self._counted(report, total))
        return True

    def _next_position(
        self,
        cursor: Cursor | None,
        everything: list[dict[str, Any]],
        state: tuple[str, dict[str, Any]] | None,
    ) -> tuple[Cursor | None, tuple[str, dict[str, Any]] | None, int]:
        """The cursor after a batch, the state to commit with it (``state`` when the caller
        gave one) and the tally that state holds; the tally becomes the runner's once the
        batch is committed."""
        if state is not None:
            return cursor, state, self._tally
        new_cursor = advance(cursor, everything)
        if new_cursor is None:
            return None, None, self._tally
        stored: dict[str, Any] = dict(new_cursor.to_json())
        tally = self._tally
        if self.tally:
            # Records past the batch's starting position are new to this read; those at or
            # before it came back in the overlap and were counted when first read.
            tally += sum(1 for r in everything if cursor is None or position(r) > cursor)
            stored["read"] = tally
        return new_cursor, (self.step.cursor_key, stored), tally

    def _counted(self, report: InboundReport, total: int | None = None) -> int:
        """Records read so far (the committed tally when the runner keeps one); with
        ``total`` (this run's records in all), about how many the whole read has: a resumed
        read's total includes the overlap it reads again."""
        done = self._tally if self.tally else report.read
        if total is None:
            return done
        return max(done, done - report.read + total)

    async def _read_bulk(
        self,
        cursor: Cursor | None,
        resume: BulkProgress | None,
        report: InboundReport,
        progress: Callable[[int, int], Any] | None,
    ) -> None:
        """Read through one Bulk API 2.0 job (or the interrupted one); see ``bulk_read``."""
        step = self.step
        base = 0
        total = 0

        def remember(applied: int, size: int) -> None:
            nonlocal base, total
            base, total = applied, size
            if progress is not None:
                progress(applied, size)

        batches = bulk_batches(
            self.client,
            step.sobject,
            step.fields(),
            cursor,
            resume,
            overlap=self.overlap,
            condition=step.condition,
            batch_size=self.bulk_batch_size,
            page_size=self.bulk_page_size,
            on_total=remember,
        )

        def tell() -> None:
            if progress is not None:
                progress(base + report.read, max(total, base + report.read))

        async def apply(
            records: list[dict[str, Any]],
            state: tuple[str, dict[str, Any]],
            drafted: Drafted | None,
        ) -> None:
            await self._apply(records, cursor, report, state=state, drafted=drafted)
            tell()

        # Batch N+1 is drafted while batch N is written (the database works in its own
        # thread or server); N+1 is applied only once N is committed.
        if cursor is None:
            self._new_share = 1.0
        writing: asyncio.Task[None] | None = None
        try:
            async with contextlib.aclosing(batches):
                async for records, done, last in batches:
                    state = (
                        (step.cursor_key, dump_state(done.highest))
                        if last
                        else (step.cursor_key, dump_state(cursor, done))
                    )
                    drafted = await self._draft_ahead(records) if records else None
                    if writing is not None:
                        task, writing = writing, None
                        await task
                    if records:
                        writing = asyncio.create_task(apply(records, state, drafted))
                    else:
                        await self.store.set_state(*state)
                        tell()
        finally:
            if writing is not None:
                await writing

    async def follow_changes(
        self, *, stop: Callable[[InboundReport], bool], poll_timeout: float = 120.0
    ) -> InboundReport:
        """Apply Change Data Capture events as they arrive until ``stop`` says so.

        Events only name records; the records are read back (one query per batch) and go
        through the same path as polling. The replay id is committed with the data; without
        one, all retained events are replayed, which is harmless because unchanged records
        are skipped.
        """
        step = self.step
        report = InboundReport()
        stored = await self.store.get_state(step.stream_key)
        replay = int(stored["replay_id"]) if stored else ALL_RETAINED
        stream = ChangeStream(
            self.client,
            f"/data/{step.sobject}ChangeEvent",
            replay_id=replay,
            poll_timeout=poll_timeout,
        )
        async for events in stream.batches():
            ids = sorted(
                {
                    record_id
                    for event in events
                    if event["data"]["payload"]["ChangeEventHeader"]["changeType"]
                    in ("CREATE", "UPDATE", "DELETE", "UNDELETE")
                    for record_id in event["data"]["payload"]["ChangeEventHeader"]["recordIds"]
                }
            )
            replayed = (step.stream_key, {"replay_id": stream.replay_id})
            if ids:
                where = soql("Id IN {}", ids)
                if step.condition:
                    where += f" AND ({guard_where(step.condition)})"
                fields = list(dict.fromkeys(["Id", "SystemModstamp", *step.fields()]))
                query = select(step.sobject, fields, where=where)
                records = [r async for r in self.client.query(query, include_deleted=True)]
                await self._apply(records, None, report, state=replayed)
            elif events:
                await self.store.set_state(*replayed)
            if stop(report):
                return report
        return report

    async def _draft_ahead(self, records: list[dict[str, Any]]) -> Drafted | None:
        """The draft of a batch made while the previous one is written (None: none)."""
        return await draft_batch(self.store, self.step, records, ahead=self._new_share > 0.5)

    async def _apply(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None = None,
        drafted: Drafted | None = None,
    ) -> Cursor | None:
        """Apply records; commit with them the advanced cursor, or ``state`` when given.

        ``drafted`` is the records' draft (see ``_draft``) when it was made ahead."""
        async with self._applying:
            live = [r for r in records if not r.get("IsDeleted")]
            if len(live) < len(records):
                report.read += len(records) - len(live)
                await self._follow_removals([r for r in records if r.get("IsDeleted")], report)
            return await self._apply_locked(live, cursor, report, state, records, drafted)

    async def _follow_removals(self, records: list[dict[str, Any]], report: InboundReport) -> None:
        """Records in the recycle bin (see ``follow_removals``)."""
        await follow_removals(
            self.store, self.step, records, report, now=self.clock.now(), dry_run=self.dry_run
        )

    async def _apply_locked(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None,
        everything: list[dict[str, Any]],
        drafted: Drafted | None = None,
    ) -> Cursor | None:
        report.read += len(records)
        if drafted is None:
            drafted = await draft_batch(self.store, self.step, records)
        # Decided on the persons as read; a person changed in People before the batch is
        # written (a People edit landing now) refuses the batch, which is decided again on
        # what People holds then: Salesforce's value never goes over an edit it was not
        # weighed against.
        for attempt in range(STALE_RETRIES):
            trial = InboundReport()
            try:
                new_cursor = await self._decide(records, cursor, trial, state, everything, drafted)
            except StalePersonsError:
                if attempt == STALE_RETRIES - 1:
                    raise
                continue
            report.merge(trial)
            return new_cursor
        raise AssertionError("unreachable")

    async def _decide(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None,
        everything: list[dict[str, Any]],
        drafted: Drafted,
    ) -> Cursor | None:
        """Map, match and settle one batch against People as stored now, and write it with
        its links and position (``StalePersonsError``: a person changed meanwhile)."""
        step = self.step
        marks = Marks.of(report)  # what this batch adds is written with it
        drafts = drafted.drafts
        links = await self.store.find_links(
            step.system, step.sobject, [d.record["Id"] for d in drafts]
        )
        persons = (
            await self.store.get_persons(list({link.entity_id for link in links.values()}))
            if links
            else {}
        )
        self._new_share = 1 - len(links) / len(drafts) if drafts else 0.0
        mapper = drafted.mapper
        found = await primaries(self.store, step, drafts, links)
        of_company = await companies(self.store, step, drafts)
        plan = BatchPlan("person")
        for draft in drafts:
            record, snapshot = draft.record, draft.snapshot
            link = links.get(record["Id"])
            if passes_over(step, link, snapshot, force=self.force):
                report.skipped += 1
                continue
            conversion = lead_conversion(step, record, link, self.clock.now())
            if conversion is not None:
                report.warnings.append(conversion.warning)
                if conversion.contact_link is not None:
                    plan.extra_links.append(conversion.contact_link)
                continue
            primary = found.get(record["Id"])
            if link is None and primary is not None:
                # Another record of this object already stands for this person.
                report.duplicates.append(duplicate_note(step, record, primary))
                continue
            if link is None and draft.create is not None:
                # Mapped and validated as a new person ahead of the batch.
                if isinstance(draft.create, RecordError):
                    report.rejected.append(draft.create)
                    continue
                company = company_to_set(of_company.get(record["Id"]), None)
                plan.add(
                    draft.create if company is None else with_company(draft.create, company),
                    (record, snapshot),
                )
                continue
            person: Person | None = persons.get(link.entity_id) if link else None
            current = {**person.standard, **person.attributes} if person else None
            applied = contribution(step.lines, record, snapshot, link, force=self.force)
            if step.two_way and link is not None and link.state and person and not self.force:
                conflicts = await self._settle(
                    record, snapshot, link.state, person, applied.lines, mapper.definitions
                )
                report.conflicts += conflicts
                applied = applied.without(losing(conflicts, Side.SALESFORCE))
            try:
                values = mapper.values(
                    record,
                    applied.lines,
                    current=current,
                    current_emails=person.emails if person else (),
                    current_phones=person.phones if person else (),
                    fields=snapshot,
                )
            except RecordError as error:
                report.rejected.append(error)
                continue
            company = company_to_set(
                of_company.get(record["Id"]), person.company_id if person else None
            )
            if company is not None:
                values.values["company_id"] = company
            plan.add(
                person_input(step, record, values, link, person),
                source(record, snapshot, link, applied.stale),
            )
        if step.two_way and not self.dry_run:
            plan.sources = await keep_pushed(self.store, step, plan.sources, links)
        return await self._commit(plan, records, cursor, everything, state, report, marks)

    async def _commit(
        self,
        plan: BatchPlan,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        everything: list[dict[str, Any]],
        state: tuple[str, dict[str, Any]] | None,
        report: InboundReport,
        marks: Marks,
    ) -> Cursor | None:
        """Write a decided batch with its links, the step's next position and its error
        entries in one transaction, and count what it did (both runners' last step)."""
        new_cursor, state, tally = self._next_position(cursor, everything, state)
        now = self.clock.now()
        result = await self._write(
            plan.inputs,
            lambda ids: plan.links(self.step, ids, now),
            state,
            self._problems(report, marks, records, self._rejected),
        )
        self._tally = tally
        report.created += len(result.created)
        report.updated += len(result.updated)
        report.unchanged += len(result.unchanged)
        report.rejected += self._rejected(result)
        if self.dry_run:
            given = [i.item if isinstance(i, Prepared) else i for i in plan.inputs]
            collect_samples(report, [(i.key, dict(i.values)) for i in given], result)
        return new_cursor

    async def _write(
        self,
        inputs: list[Any],
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None,
        also: BatchWrite,
    ) -> UpsertResult:
        """One batch of persons with their links, position and error entries."""
        return await self.store.apply_batch(
            inputs,
            origin=self.step.system,
            links=links,
            state=state,
            dry_run=self.dry_run,
            also=also,
        )

    def _rejected(self, result: UpsertResult) -> list[RecordError]:
        """The records the store rejected, in Salesforce's terms."""
        return [in_salesforce_terms(error, self.step.lines) for error in result.rejected]

    def _problems(
        self,
        report: InboundReport,
        marks: Marks,
        records: list[dict[str, Any]],
        rejected: Callable[[UpsertResult], list[RecordError]],
    ) -> BatchWrite:
        """The batch's error entries, for its own transaction (see ``inbound_problems``)."""
        integration, now = self.step.integration, self.clock.now()
        return batch_problems(integration, self.label, report, marks, records, rejected, now)

    async def _settle(
        self,
        record: Mapping[str, Any],
        snapshot: Mapping[str, Any],
        synced: Mapping[str, Any],
        person: Person,
        lines: tuple[FieldMapping, ...],
        definitions: Mapping[str, AttributeDefinition],
    ) -> list[Conflict]:
        """The conflicts among a linked record's changed lines. A field whose People value
        wins is not applied; the link still takes Salesforce's value as its state, so the
        outbound push sees People's value differ from it and writes it. Most recent compares
        the record's LastModifiedDate with when People last changed that attribute."""
        modified = record.get("LastModifiedDate") or record.get("SystemModstamp")
        region = getattr(self.store, "default_phone_region", None)
        people = person_values(person, self.step.lines, creating=False)
        timed = attributes_to_time(lines, synced, snapshot, people, definitions, region)
        times = (
            (await self.store.changed_at({person.id: timed})).get(person.id, {}) if timed else {}
        )
        return settle(
            f"{self.step.sobject} {record['Id']}",
            lines,
            synced,
            snapshot,
            people,
            definitions,
            Moment(parse_modstamp(str(modified)) if modified else None, times),
            phone_region=region,
        )


__all__ = [
    "BULK_BATCH",
    "BULK_THRESHOLD",
    "COUNT_AFTER",
    "InboundReport",
    "InboundRunner",
    "InboundStep",
    "collect_samples",
]
