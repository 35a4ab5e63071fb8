"""People -> Salesforce writes: updates of linked records and creates of new ones.

Each object's batch goes the path that spends fewer API calls for its size
(``bulk_ingest.prefer_bulk``); two-way fields are settled by their conflict rule first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from peoplesync.errors import MissingMandatoryAttributeError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.model import ExternalLink, Person
from peoplesync.salesforce.bulk_ingest import BulkIngest, prefer_bulk
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.salesforce.lookup import in_batches, query_many
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.conflict import (
    Moment,
    Side,
    attributes_to_time,
    losing,
    needs_salesforce_values,
    settle,
    two_way,
)
from peoplesync.sync.inbound.cursor import parse_modstamp
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound.attempts import CreateAttempts
from peoplesync.sync.outbound.plan import (
    RetryEntry,
    UpdateDiff,
    create_values,
    missing_on_create,
    person_values,
)
from peoplesync.sync.outbound.push_mark import marked, with_sent
from peoplesync.sync.outbound.report import (
    AWAITING_INBOUND,
    NO_RETRY,
    OutboundReport,
    PageWork,
    record_failure,
)
from peoplesync.sync.outbound.sent_updates import SentUpdates
from peoplesync.sync.outbound.step import STORE_CHUNK, OutboundStep, PushContext


class OutboundWriter:
    """Writes one step's batch of persons to Salesforce and collects the new link states."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx
        self._external_ids: dict[str, str | None] = {}
        self.attempts = CreateAttempts(ctx)
        self.updates = SentUpdates(ctx)

    async def _refresh_unknown(
        self, step: OutboundStep, pairs: list[tuple[Person, ExternalLink]]
    ) -> list[tuple[Person, ExternalLink]]:
        """Links without a synced state (made when a Lead was converted) get the record's
        current values, so Fill lines and the echo check compare against the truth."""
        unknown = [link.external_id for _, link in pairs if not link.state]
        if not unknown:
            return pairs
        current: dict[str, dict[str, Any]] = {}
        fields = list(dict.fromkeys(["Id", *step.fields()]))
        queries = in_batches(
            unknown, lambda batch: select(step.sobject, fields, where=soql("Id IN {}", batch))
        )
        for record in await query_many(self.ctx.client, queries):
            current[str(record["Id"])[:15]] = {n: record.get(n) for n in step.fields()}
        return [
            (p, dataclasses.replace(link, state=current.get(link.external_id[:15], {})))
            if not link.state
            else (p, link)
            for p, link in pairs
        ]

    async def write(
        self,
        sobject: str,
        operation: str,
        records: list[dict[str, Any]],
        external_id_field: str | None = None,
    ) -> list[dict[str, Any] | None]:
        """Write with whichever path spends fewer API calls for this volume (see
        ``bulk_ingest.prefer_bulk``): sObject Collections up to about a thousand records,
        one Bulk API 2.0 ingest job above. One result per record, None when its outcome is
        unknown (a bulk job that ended early)."""
        if not self.ctx.dry_run and prefer_bulk(operation, len(records)):
            job = await BulkIngest(self.ctx.client).run(
                sobject, operation, records, external_id_field=external_id_field
            )
            return job.results
        if operation == "update":
            return list(await self.ctx.client.update_many(sobject, records))
        if operation == "upsert" and external_id_field:
            return list(await self.ctx.client.upsert_many(sobject, external_id_field, records))
        # A timeout here is not retried blindly: the page is read again and the email
        # lookup finds what the lost answer had created.
        return list(await self.ctx.client.create_many(sobject, records, retry_unsure=False))

    async def update(
        self,
        step: OutboundStep,
        pairs: list[tuple[Person, ExternalLink]],
        definitions: Mapping[str, AttributeDefinition],
        report: OutboundReport,
        work: PageWork,
    ) -> None:
        pairs = await self._refresh_unknown(step, pairs)
        rows: list[tuple[Person, ExternalLink, dict[str, Any]]] = []
        differ = UpdateDiff(step.lines, definitions, phone_region=self.ctx.phone_region)
        for person, link in pairs:
            diff = differ(person, link.state)
            if diff:
                rows.append((person, link, diff))
            else:
                report.unchanged += 1
                work.retries.pop(person.id, None)
        # What earlier pushes sent these records without committing (see ``sent_updates``).
        unsure = await self.updates.sent(step.sobject, [link.external_id for _, link, _ in rows])
        rows = await self._settle(step, rows, definitions, report, work, unsure)
        if not rows:
            return
        await self.updates.record(
            step.sobject, [(link.external_id, diff) for _, link, diff in rows]
        )
        sent = self.ctx.clock.now()  # marks the fields written (see ``push_mark``)
        results = await self.write(
            step.sobject, "update", [{"Id": link.external_id, **diff} for _, link, diff in rows]
        )
        now = self.ctx.clock.now()
        fresh = await self._fresh_links(step, [link for _, link, _ in rows])
        unknown = 0
        for (person, link, diff), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
                continue
            work.sent.setdefault(link.external_id, set()).update(diff)
            if result.get("success"):
                base = fresh.get(link.external_id)
                before = base.state if base and base.state else link.state
                state = marked(before, diff, sent, unsure.get(link.external_id))
                work.links.append(dataclasses.replace(link, state=state, synced_at=now))
                report.updated += 1
                if work.retries.get(person.id, NO_RETRY).code != AWAITING_INBOUND:
                    work.retries.pop(person.id, None)
            else:
                record_failure(
                    self.ctx.clock,
                    person,
                    f"{step.sobject} {link.external_id}",
                    result,
                    report,
                    work,
                )
        if unknown:
            raise SalesforceUnavailableError(
                f"{unknown} {step.sobject} updates have no known outcome; the page is pushed again",
                error_code="JOB_INCOMPLETE",
            )

    async def external_id(self, step: OutboundStep) -> str | None:
        """The step's external-id field when the org's describe marks it ``externalId``."""
        if step.external_id is None:
            return None
        if step.sobject not in self._external_ids:
            fields = (await self.ctx.client.describe(step.sobject)).get("fields", [])
            self._external_ids[step.sobject] = next(
                (
                    str(f["name"])
                    for f in fields
                    if str(f.get("name", "")).casefold() == step.external_id.casefold()
                    and f.get("externalId")
                ),
                None,
            )
        return self._external_ids[step.sobject]

    async def _fresh_links(
        self, step: OutboundStep, links: list[ExternalLink]
    ) -> dict[str, ExternalLink]:
        """For two-way steps, the links as stored now: the inbound sync may have recorded
        newer Salesforce values since this pass read them, and the new state must keep those
        (an older state would make a later People edit look like a conflict it is not)."""
        if not any(two_way(line) for line in step.lines):
            return {}
        ids = [link.external_id for link in links]
        stored: dict[str, ExternalLink] = {}
        for start in range(0, len(ids), STORE_CHUNK):
            chunk = ids[start : start + STORE_CHUNK]
            stored |= await self.ctx.store.find_links(self.ctx.system, step.sobject, chunk)
        return stored

    async def _settle(
        self,
        step: OutboundStep,
        rows: list[tuple[Person, ExternalLink, dict[str, Any]]],
        definitions: Mapping[str, AttributeDefinition],
        report: OutboundReport,
        work: PageWork,
        unsure: Mapping[str, Mapping[str, Any]],
    ) -> list[tuple[Person, ExternalLink, dict[str, Any]]]:
        """Rows without the two-way fields whose Salesforce change wins over People's (a
        record holding what a push sent without committing, ``unsure``, did not change).

        Only rows writing a two-way field whose rule may let Salesforce win cost a read of
        the records' current values (Id IN queries, several per composite call). A person with a
        losing field is looked at again on the next pass: by then the inbound sync has either
        brought Salesforce's value (nothing left to write) or decided for People and recorded
        Salesforce's value as synced (People's value is written then).
        """
        asked = [row for row in rows if needs_salesforce_values(step.lines, list(row[2]))]
        if not asked:
            return rows
        wanted = sorted({name for _, _, diff in asked for name in diff})
        fields = list(dict.fromkeys(["Id", "LastModifiedDate", *wanted]))
        queries = in_batches(
            [link.external_id for _, link, _ in asked],
            lambda batch: select(step.sobject, fields, where=soql("Id IN {}", batch)),
        )
        current = {str(r["Id"])[:15]: r for r in await query_many(self.ctx.client, queries)}
        region = self.ctx.phone_region
        # The two sides of each row, and when People changed the attributes most recent needs.
        sides: dict[str, tuple[list[FieldMapping], dict[str, Any], dict[str, Any]]] = {}
        to_time: dict[str, set[str]] = {}
        for person, link, diff in rows:
            record = current.get(link.external_id[:15])
            if record is None:
                continue
            lines = [line for line in step.lines if line.salesforce_field in diff]
            people = person_values(person, step.lines, creating=False)
            synced = with_sent(link.state, unsure.get(link.external_id), record)
            sides[link.external_id] = (lines, people, synced)
            timed = attributes_to_time(lines, synced, record, people, definitions, region)
            if timed:
                to_time[person.id] = timed
        times = await self.ctx.store.changed_at(to_time) if to_time else {}
        kept: list[tuple[Person, ExternalLink, dict[str, Any]]] = []
        for person, link, diff in rows:
            record = current.get(link.external_id[:15])
            if record is None:
                kept.append((person, link, diff))
                continue
            modified = record.get("LastModifiedDate")
            lines, people, synced = sides[link.external_id]
            conflicts = settle(
                f"{step.sobject} {link.external_id}",
                lines,
                synced,
                record,
                people,
                definitions,
                Moment(
                    parse_modstamp(str(modified)) if modified else None, times.get(person.id, {})
                ),
                phone_region=region,
            )
            report.conflicts += conflicts
            beaten = losing(conflicts, Side.PEOPLE)
            if beaten:
                work.retries[person.id] = RetryEntry(0, self.ctx.clock.now(), AWAITING_INBOUND)
            diff = {name: value for name, value in diff.items() if name not in beaten}
            if diff:
                kept.append((person, link, diff))
            elif not beaten:
                report.unchanged += 1
        return kept

    async def create(
        self, step: OutboundStep, persons: list[Person], report: OutboundReport, work: PageWork
    ) -> None:
        rows: list[tuple[Person, dict[str, Any]]] = []
        for person in persons:
            values = create_values(person, step.lines)
            missing = missing_on_create(step.sobject, values)
            if missing:
                sf_field, attribute = missing[0]
                report.errors.append(
                    MissingMandatoryAttributeError(
                        f"a new {step.sobject} needs {sf_field}, and the person has no {attribute}",
                        record=f"person {person.id}",
                        field=attribute,
                        hint=f"set the person's {attribute} in People "
                        f"(Salesforce requires {step.sobject}.{sf_field})",
                    )
                )
                # Waits for the person's next change in People; retrying cannot help.
                work.retries.pop(person.id, None)
                continue
            rows.append((person, values))
        if not rows:
            return
        # The values sent are saved first (see ``attempts``): persons without an email have
        # no lookup key, so a lost answer is looked for by them before creating again, and
        # the inbound sync reading a new record before its link is committed knows which of
        # its values are only the ones sent.
        await self.attempts.record(step.sobject, rows)
        # With an external-id field holding the person id, the write is an upsert: a repeat
        # after a lost answer or a crash finds the record it made instead of making another.
        external_id = await self.external_id(step)
        if external_id:
            results = await self.write(
                step.sobject,
                "upsert",
                [{**values, external_id: person.id} for person, values in rows],
                external_id,
            )
        else:
            results = await self.write(step.sobject, "insert", [v for _, v in rows])
        done = zip(rows, results, strict=True)
        work.settled += [p.id for (p, _), r in done if r is not None]
        now = self.ctx.clock.now()
        unknown = 0
        for (person, values), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
            elif result.get("success"):
                work.links.append(
                    ExternalLink(
                        "person",
                        person.id,
                        self.ctx.system,
                        step.sobject,
                        str(result["id"]),
                        values,
                        now,
                    )
                )
                if result.get("created", True):
                    report.created += 1
                else:
                    report.linked += 1
                work.retries.pop(person.id, None)
            else:
                record_failure(self.ctx.clock, person, f"new {step.sobject}", result, report, work)
        if unknown:
            # Not retried here: the page is read again, and the email lookup (or the upsert
            # key) finds what the job made before anything is created again.
            raise SalesforceUnavailableError(
                f"{unknown} new {step.sobject} records have no known outcome; "
                "they are looked up before being created again",
                error_code="JOB_INCOMPLETE",
            )


__all__ = ["OutboundWriter"]
