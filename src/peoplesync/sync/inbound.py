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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import RecordError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.domain_name import email_domain
from peoplesync.people.model import ExternalLink, Person, PersonInput, UpsertResult
from peoplesync.people.planner import Prepared, with_company
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.bulk import PAGE_SIZE
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.soql import guard_where, select, soql
from peoplesync.salesforce.streaming import ALL_RETAINED, ChangeStream
from peoplesync.sync.bulk_read import bulk_batches
from peoplesync.sync.conflict import Conflict, Moment, Side, losing, settle, two_way
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
from peoplesync.sync.mapping import FieldMapping, InboundMapper
from peoplesync.sync.outbound_plan import person_values
from peoplesync.sync.push_mark import (
    MARK,
    carried_marks,
    kept_state,
    stale_fields,
    synced_values,
)

CONVERSION_FIELDS = ("IsConverted", "ConvertedContactId")
MERGEABLE = frozenset({"Lead", "Contact", "Account"})
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
# Records drafted between two chances for a concurrent batch write to proceed.
_SLICE = 250


@dataclass(frozen=True)
class InboundStep:
    """A Salesforce object flowing into People persons.

    ``create`` / ``update`` switch new persons and changes to linked ones on or off;
    ``delete`` decides what a record deleted in Salesforce does to its person: the person is
    deleted with its last link to the org (on), or only unlinked (off). ``name`` is the
    profile step's name; it keeps the cursors of several steps on one object apart (a step
    named after its object uses the object's keys).
    """

    sobject: str
    lines: tuple[FieldMapping, ...]
    integration: str = "default"
    condition: str | None = None
    create: bool = True
    update: bool = True
    delete: bool = True
    name: str | None = None

    @property
    def system(self) -> str:
        """The link system (and change-log origin) of this integration."""
        return f"salesforce:{self.integration}"

    @property
    def stream_key(self) -> str:
        """Where the step's Change Data Capture replay id is kept."""
        return f"{self.system}:{self.name or self.sobject}:replay"

    @property
    def cursor_key(self) -> str:
        """Where the step's cursor is kept."""
        return f"{self.system}:{self.name or self.sobject}:cursor"

    def fields(self) -> list[str]:
        """Fields to query: mapped ones, plus what matching and conversion need."""
        wanted = [line.salesforce_field for line in self.lines]
        if self.sobject == "Lead":
            wanted += list(CONVERSION_FIELDS)
        if self.sobject == "Contact":
            wanted.append("AccountId")
        wanted.append("IsDeleted")
        if self.sobject in MERGEABLE:
            wanted.append("MasterRecordId")
        if self.two_way:
            wanted.append("LastModifiedDate")  # when Salesforce changed it: most recent wins
        return list(dict.fromkeys(wanted))

    @property
    def two_way(self) -> bool:
        """Whether some line is two-way, so a change may meet one made in People."""
        return any(two_way(line) for line in self.lines)


@dataclass
class InboundReport:
    """What a run did."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    deleted: int = 0
    unlinked: int = 0
    merged: int = 0
    # A preview's examples by outcome (create, update, unchanged, reject): record and values.
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Two-way fields changed on both sides since the last sync, with both values and the winner.
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass(slots=True)
class _Draft:
    """What one live record gives without looking at People's persons and links."""

    record: dict[str, Any]
    snapshot: dict[str, Any]
    email: str | None
    # As a new person, drafted ahead (see ``_Drafted``): its validated input, or why it is
    # rejected; None when not drafted.
    create: Prepared | RecordError | None = None


@dataclass(slots=True)
class _Drafted:
    """A batch's work that needs no earlier batch to be committed, so it can be done while
    the previous batch is written, without reading the store: the link snapshots, emails
    and, when the records are probably new, their mapping and validation as new persons.
    Whether a record is linked or duplicates an email, and its company, are only decided
    when the batch is applied.

    Records in the recycle bin are left out (they are followed when the batch is applied)."""

    mapper: InboundMapper
    drafts: list[_Draft]  # the records not in the recycle bin


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
    ) -> None:
        """``dry_run`` plans every batch and writes nothing (a preview); ``force`` applies
        every mapped field of every record read, even unchanged ones (a resync).

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
            drafted: _Drafted | None,
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

    async def _primaries(
        self, drafts: Sequence[_Draft], links: Mapping[str, ExternalLink]
    ) -> dict[str, str]:
        """For unlinked records whose email already belongs to another record of the same
        object (linked before, or earlier in this batch): that other record's id."""
        step = self.step
        emails = [d.email for d in drafts if d.email and d.record["Id"] not in links]
        owners = await self.store.find_by_emails(emails) if emails else {}
        linked = await self.store.links_of("person", list(set(owners.values()))) if owners else {}
        taken: dict[str, str] = {}
        for email, person_id in owners.items():
            for link in linked.get(person_id, []):
                if link.system == step.system and link.object == step.sobject:
                    taken[email] = link.external_id
        primaries: dict[str, str] = {}
        for draft in drafts:
            address = draft.email
            if address is None:
                continue
            record_id = draft.record["Id"]
            other = taken.get(address)
            if other is not None and other != record_id and record_id not in links:
                primaries[record_id] = other
            taken.setdefault(address, record_id)
        return primaries

    async def _companies(self, drafts: Sequence[_Draft]) -> dict[str, tuple[str, bool]]:
        """The People company of each record: its Account's (True), or else the one whose
        website has the domain of the record's email (False: only fills an empty company)."""
        step = self.step
        accounts = {
            d.record["Id"]: str(d.record["AccountId"]) for d in drafts if d.record.get("AccountId")
        }
        linked = (
            await self.store.find_links(step.system, "Account", list(set(accounts.values())))
            if accounts
            else {}
        )
        found = {
            record_id: (linked[account].entity_id, True)
            for record_id, account in accounts.items()
            if account in linked
        }
        domains = {
            d.record["Id"]: domain
            for d in drafts
            if d.record["Id"] not in found and (domain := email_domain(d.email))
        }
        if domains:
            owners = await self.store.find_companies_by_domains(set(domains.values()))
            found |= {
                record_id: (owners[domain], False)
                for record_id, domain in domains.items()
                if domain in owners
            }
        return found

    async def _draft_ahead(self, records: list[dict[str, Any]]) -> _Drafted | None:
        """The draft of a batch made while the previous one is written (None: none)."""
        return await self._draft(records, ahead=self._new_share > 0.5)

    async def _draft(self, records: list[dict[str, Any]], *, ahead: bool = False) -> _Drafted:
        """A batch's work that does not depend on earlier batches (see ``_Drafted``);
        ``ahead`` maps and validates the unconverted records as new persons too."""
        step = self.step
        mapper = InboundMapper(step.lines, await self.store.attributes())
        # Top-level fields are read with dict.get, relationship paths by their reader.
        readers = [
            (
                line.salesforce_field,
                "." not in line.salesforce_field,
                mapper.reader(line.salesforce_field),
            )
            for line in step.lines
        ]
        emails = [
            mapper.reader(line.salesforce_field)
            for line in step.lines
            if line.attribute == "emails"
        ]
        drafts: list[_Draft] = []
        for record in records:
            if record.get("IsDeleted"):
                continue
            email = None
            for read in emails:
                value = read(record)
                if isinstance(value, str) and value.strip():
                    email = value.strip().lower()
                    break
            get = record.get
            snapshot = {name: get(name) if top else read(record) for name, top, read in readers}
            drafts.append(_Draft(record, snapshot, email))
        if ahead and step.create:
            inputs: list[PersonInput] = []
            pending: list[_Draft] = []
            for index, draft in enumerate(drafts):
                if index % _SLICE == _SLICE - 1:
                    await asyncio.sleep(0)
                record = draft.record
                if step.sobject == "Lead" and record.get("IsConverted"):
                    continue
                try:
                    values = mapper.values(record, current=None, fields=draft.snapshot)
                except RecordError as error:
                    draft.create = error
                    continue
                inputs.append(
                    PersonInput(
                        values=values.values,
                        emails=values.emails,
                        phones=values.phones,
                        key=f"{step.sobject} {record['Id']}",
                    )
                )
                pending.append(draft)
            for draft, prepared in zip(
                pending, await self.store.validate_inputs(inputs), strict=True
            ):
                draft.create = prepared
        return _Drafted(mapper, drafts)

    async def _apply(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None = None,
        drafted: _Drafted | None = None,
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
        """Records in the recycle bin: merged ones fold their person into the master's,
        deleted ones unlink (and, with the step's delete switch, delete) their person."""
        step = self.step
        links = await self.store.find_links(step.system, step.sobject, [r["Id"] for r in records])
        masters = await self.store.find_links(
            step.system,
            step.sobject,
            [str(r["MasterRecordId"]) for r in records if r.get("MasterRecordId")],
        )
        others = await self.store.links_of(
            "person", list({link.entity_id for link in links.values()})
        )
        unlink: list[tuple[str, str, str]] = []
        delete: list[str] = []
        merge: list[tuple[str, str]] = []
        relink: list[ExternalLink] = []
        for record in records:
            link = links.get(record["Id"])
            if link is None:
                report.skipped += 1
                continue
            unlink.append((step.system, step.sobject, record["Id"]))
            master_id = record.get("MasterRecordId")
            if master_id:
                report.merged += 1
                master = masters.get(str(master_id))
                if master is None:
                    # The master was never linked: the person now stands for it; its values
                    # arrive with the master's next change.
                    relink.append(
                        ExternalLink(
                            "person",
                            link.entity_id,
                            step.system,
                            step.sobject,
                            str(master_id),
                            {},
                            self.clock.now(),
                        )
                    )
                elif master.entity_id != link.entity_id:
                    merge.append((link.entity_id, master.entity_id))
                continue
            remaining = [
                other
                for other in others.get(link.entity_id, [])
                if other.system == step.system and other.external_id != record["Id"]
            ]
            if step.delete and not remaining:
                delete.append(link.entity_id)
                report.deleted += 1
            else:
                report.unlinked += 1
        if not self.dry_run:
            await self.store.apply_removals(
                origin=step.system, unlink=unlink, delete=delete, merge=merge, link=relink
            )

    async def _apply_locked(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None,
        everything: list[dict[str, Any]],
        drafted: _Drafted | None = None,
    ) -> Cursor | None:
        step = self.step
        report.read += len(records)
        if drafted is None:
            drafted = await self._draft(records)
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
        inputs: list[PersonInput | Prepared] = []
        sources: list[tuple[dict[str, Any], dict[str, Any]]] = []
        extra_links: list[ExternalLink] = []
        primaries = await self._primaries(drafts, links)
        companies = await self._companies(drafts)
        for draft in drafts:
            record, snapshot = draft.record, draft.snapshot
            link = links.get(record["Id"])
            if not self.force and link is not None and synced_values(link.state) == snapshot:
                report.skipped += 1
                continue
            if (link is None and not step.create) or (link is not None and not step.update):
                report.skipped += 1
                continue
            if step.sobject == "Lead" and record.get("IsConverted"):
                contact = record.get("ConvertedContactId")
                report.warnings.append(
                    f"lead {record['Id']} was converted to contact {contact}; "
                    "the person follows the contact"
                )
                if link is not None and contact:
                    extra_links.append(
                        ExternalLink(
                            "person",
                            link.entity_id,
                            step.system,
                            "Contact",
                            str(contact),
                            {},
                            self.clock.now(),
                        )
                    )
                continue
            primary = primaries.get(record["Id"])
            if link is None and primary is not None:
                # Another record of this object already stands for this person.
                report.duplicates.append(
                    f"{step.sobject} {record['Id']} has the email of {step.sobject} {primary}; "
                    "it is not linked (merge the duplicates in Salesforce)"
                )
                continue
            if link is None and draft.create is not None:
                # Mapped and validated as a new person ahead of the batch.
                if isinstance(draft.create, RecordError):
                    report.rejected.append(draft.create)
                    continue
                company = _company_to_set(companies.get(record["Id"]), None)
                inputs.append(
                    draft.create if company is None else with_company(draft.create, company)
                )
                sources.append((record, snapshot))
                continue
            person: Person | None = persons.get(link.entity_id) if link else None
            current = {**person.standard, **person.attributes} if person else None
            # A linked record contributes only the fields that changed since its last sync,
            # so a Lead edit does not undo what the person's Contact brought.
            lines = (
                step.lines
                if link is None or not link.state or self.force
                else tuple(
                    line
                    for line in step.lines
                    if snapshot.get(line.salesforce_field) != link.state.get(line.salesforce_field)
                )
            )
            stale = stale_fields(record, snapshot, link.state) if link is not None else set()
            if stale:
                # Read before a push wrote these fields: People has the newer values already.
                lines = tuple(line for line in lines if line.salesforce_field not in stale)
            if step.two_way and link is not None and link.state and person and not self.force:
                conflicts = self._settle(
                    record, snapshot, link.state, person, lines, mapper.definitions
                )
                report.conflicts += conflicts
                beaten = losing(conflicts, Side.SALESFORCE)
                lines = tuple(line for line in lines if line.salesforce_field not in beaten)
            try:
                values = mapper.values(
                    record,
                    lines,
                    current=current,
                    current_emails=person.emails if person else (),
                    current_phones=person.phones if person else (),
                    fields=snapshot,
                )
            except RecordError as error:
                report.rejected.append(error)
                continue
            company = _company_to_set(
                companies.get(record["Id"]), person.company_id if person else None
            )
            if company is not None:
                values.values["company_id"] = company
            inputs.append(
                PersonInput(
                    values=values.values,
                    emails=values.emails,
                    phones=values.phones,
                    id=link.entity_id if link else None,
                    key=f"{step.sobject} {record['Id']}",
                )
            )
            sources.append((record, kept_state(snapshot, link.state, stale) if link else snapshot))
        new_cursor, state, tally = self._next_position(cursor, everything, state)
        if step.two_way and not self.dry_run:
            sources = await self._keep_pushed(sources, links)
        now = self.clock.now()

        def links_for(ids: list[str | None]) -> list[ExternalLink]:
            made = [
                ExternalLink(
                    "person", person_id, step.system, step.sobject, str(record["Id"]), snapshot, now
                )
                for person_id, (record, snapshot) in zip(ids, sources, strict=True)
                if person_id is not None
            ]
            return made + extra_links

        result = await self.store.apply_batch(
            inputs, origin=step.system, links=links_for, state=state, dry_run=self.dry_run
        )
        self._tally = tally
        report.created += len(result.created)
        report.updated += len(result.updated)
        report.unchanged += len(result.unchanged)
        report.rejected += [_in_salesforce_terms(error, step.lines) for error in result.rejected]
        if self.dry_run:
            given = [i.item if isinstance(i, Prepared) else i for i in inputs]
            collect_samples(report, [(i.key, dict(i.values)) for i in given], result)
        return new_cursor

    async def _keep_pushed(
        self,
        sources: list[tuple[dict[str, Any], dict[str, Any]]],
        links: Mapping[str, ExternalLink],
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Snapshots that keep the values a push recorded on the links after this batch read
        them: such a field is unchanged in the record read (read before the push wrote it),
        and rolling its state back would make the push's write look like a Salesforce change
        (and a later People edit of the field like a conflict)."""
        step = self.step
        ids = [str(record["Id"]) for record, _ in sources if record["Id"] in links]
        if not ids:
            return sources
        stored = await self.store.find_links(step.system, step.sobject, ids)
        kept: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for record, snapshot in sources:
            read, now = links.get(record["Id"]), stored.get(record["Id"])
            if read is None or now is None or dict(now.state) == dict(read.state):
                kept.append((record, snapshot))
                continue
            merged = dict(snapshot)
            taken: list[str] = []
            for name, value in now.state.items():
                before = read.state.get(name)
                if name == MARK or name not in merged:
                    continue
                if value != before and snapshot.get(name) == before:
                    merged[name] = value
                    taken.append(name)
            kept.append((record, carried_marks(merged, now.state, taken)))
        return kept

    def _settle(
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
        outbound push sees People's value differ from it and writes it."""
        modified = record.get("LastModifiedDate") or record.get("SystemModstamp")
        return settle(
            f"{self.step.sobject} {record['Id']}",
            lines,
            synced,
            snapshot,
            person_values(person, self.step.lines, creating=False),
            definitions,
            Moment(parse_modstamp(str(modified)) if modified else None, person.updated_at),
            phone_region=getattr(self.store, "default_phone_region", None),
        )


SAMPLES = 5


def collect_samples(
    report: InboundReport, inputs: Sequence[tuple[str | None, dict[str, Any]]], result: UpsertResult
) -> None:
    """Keep the first few planned records of each outcome in the report (for a preview)."""
    created, updated = set(result.created), set(result.updated)
    rejected = {error.record: error for error in result.rejected}
    for (key, values), entity_id in zip(inputs, result.ids, strict=True):
        if entity_id is None:
            error = rejected.get(key)
            outcome, shown = "reject", {"error": str(error) if error else "rejected"}
        elif entity_id in created:
            outcome, shown = "create", values
        elif entity_id in updated:
            outcome, shown = "update", values
        else:
            outcome, shown = "unchanged", {}
        kept = report.samples.setdefault(outcome, [])
        if len(kept) < SAMPLES:
            kept.append({"record": key, **{k: _plain(v) for k, v in shown.items()}})


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def _company_to_set(found: tuple[str, bool] | None, current: str | None) -> str | None:
    """The company id to write for a person: its Account's company always, an email-domain
    match only when the person has none."""
    if found is None or found[0] == current:
        return None
    company_id, from_account = found
    return company_id if from_account or current is None else None


def _in_salesforce_terms(error: RecordError, lines: Sequence[FieldMapping]) -> RecordError:
    """The People field of an error replaced by the Salesforce field(s) it came from."""
    attribute = (error.field or "").split("[")[0]
    sources = [line.salesforce_field for line in lines if line.attribute == attribute]
    if not sources:
        return error
    return type(error)(
        f"{error.detail} (People attribute {error.field})",
        record=error.record,
        field=", ".join(sources),
        hint=error.hint,
    )
