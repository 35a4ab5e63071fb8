"""Salesforce -> People for one step: poll by SystemModstamp, map, match, write with the cursor.

Each batch of records is one People transaction holding the persons, their links (with the
record's last synced values) and the step's cursor, so a crash resumes exactly where the last
batch ended. A record whose mapped values equal its link's last synced state is skipped, which
makes re-reading the overlap window free and keeps our own echoes from becoming changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peoplesync.errors import RecordError, StalePersonsError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.model import Person, UpsertResult
from peoplesync.people.planner import with_company
from peoplesync.sync.conflict import Conflict, Moment, Side, attributes_to_time, losing, settle
from peoplesync.sync.inbound.cursor import (
    Cursor,
    parse_modstamp,
)
from peoplesync.sync.inbound.draft import Drafted, draft_batch
from peoplesync.sync.inbound.match import (
    companies,
    company_to_set,
    create_attempts,
    keep_pushed,
    primaries,
    pushed_creates,
    pushed_updates,
    sent_to,
)
from peoplesync.sync.inbound.plan import (
    BatchPlan,
    contribution,
    duplicate_note,
    lead_conversion,
    passes_over,
    person_input,
    source,
)
from peoplesync.sync.inbound.problems import Marks
from peoplesync.sync.inbound.reads import BULK_BATCH, BULK_THRESHOLD, COUNT_AFTER
from peoplesync.sync.inbound.removals import follow_removals
from peoplesync.sync.inbound.report import InboundReport, collect_samples, in_salesforce_terms
from peoplesync.sync.inbound.skeleton import BatchApply, InboundSkeleton
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound.plan import person_values

# Times a batch is decided again when persons change in People while it is written.
STALE_RETRIES = 5


class InboundRunner(InboundSkeleton):
    """Runs one Lead or Contact -> Person step against a Salesforce client and People."""

    async def _draft_ahead(self, records: list[dict[str, Any]]) -> Drafted | None:
        """The draft of a batch made while the previous one is written (None: none)."""
        return await draft_batch(self.store, self.step, records, ahead=self._new_share > 0.5)

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
        # What pushes sent without committing, read before the links (see ``sent_to``).
        sent = await sent_to(self.store, step, drafts)
        creates = await create_attempts(self.store, step, drafts)
        links = await self.store.find_links(
            step.system, step.sobject, [d.record["Id"] for d in drafts]
        )
        links = {**links, **await pushed_creates(self.store, step, drafts, links, creates)}
        # As synced: what pushes sent without committing (decisions only; ``keep_pushed``
        # compares the links as read with the links as stored).
        seen = pushed_updates(drafts, links, sent)
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
            link = seen.get(record["Id"])
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

    def _batch_writer(self) -> BatchApply:
        return self.store.apply_batch

    def _rejected(self, result: UpsertResult) -> list[RecordError]:
        """The records the store rejected, in Salesforce's terms."""
        return [in_salesforce_terms(error, self.step.lines) for error in result.rejected]

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
