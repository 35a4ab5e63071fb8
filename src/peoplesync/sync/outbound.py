"""People -> Salesforce: a change-log consumer writing persons to Leads and Contacts.

A pass reads People's change log from the stored position (pages of up to 50,000 changes),
collapses the changes of each person, leaves out the changes this integration made itself,
and writes each object's batch with whichever path spends fewer API calls for its size
(``bulk_ingest.prefer_bulk``): sObject Collections (200 records a call) up to about a
thousand records, one Bulk API 2.0 ingest job above (about 5 calls whatever the size). A
linked person updates its record with the fields that differ from the link's last synced
state. An unlinked person is first checked against the inbound mirror (a record linked to
another person with its email is not created again), then looked up by email (``Email IN
(...)`` lists as long as the SOQL limit allows, five queries a Composite call) and linked
when found, and only then created as a Lead; when the org has the step's external-id field
(``PeopleSync_Id__c``, ``externalId`` in describe), the create is an upsert keyed on the
person id. The new links (with the values written as their state), the log position and the
retry list are committed in one People transaction after Salesforce accepted the writes, so a
crash repeats at most one page, and the repeat finds what was created by email (or by the
upsert key) instead of creating it again; a bulk job that ends with records of unknown
outcome is treated the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import MissingMandatoryAttributeError, PeopleSyncError, RecordError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.model import ExternalLink, Person
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.bulk_ingest import BulkIngest, prefer_bulk
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceRecordError, SalesforceUnavailableError
from peoplesync.salesforce.lookup import in_batches, query_many
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.conflict import (
    Conflict,
    Moment,
    Side,
    losing,
    needs_salesforce_values,
    settle,
    two_way,
)
from peoplesync.sync.cursor import parse_modstamp
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound_plan import (
    DEFAULT_GAP_TIMEOUT,
    OUTBOUND_MAPPINGS,
    LogPosition,
    RetryEntry,
    create_values,
    deleted_links,
    due,
    missing_on_create,
    next_retry,
    person_values,
    persons_to_push,
    update_values,
)
from peoplesync.sync.status import Counts

LOOKUP_SIZE = 200  # emails per lookup query
# Answers to a delete that mean the record is gone already (a repeated page, a person
# deleted in Salesforce as well): nothing left to do.
GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})
STORE_CHUNK = 5_000  # ids per People store read (SQL parameter limits)
EXTERNAL_ID_FIELD = "PeopleSync_Id__c"  # used for upserts when the org has it as an external id
# A person whose two-way field lost to a Salesforce change waits for the inbound sync to bring
# that value; it is looked at again on the next pass (see ``_settle``).
AWAITING_INBOUND = "CONFLICT_SALESFORCE_WINS"
_NO_RETRY = RetryEntry(0, datetime.min.replace(tzinfo=UTC), "")


@dataclass(frozen=True)
class OutboundStep:
    """Persons flowing into one Salesforce object (Lead or Contact).

    ``create`` lets unlinked persons become new records (Person -> Lead); ``update`` lets
    changes reach linked records; ``delete`` deletes a deleted person's linked record (off
    by default: without it the person's links are only forgotten).
    """

    sobject: str
    lines: tuple[FieldMapping, ...]
    create: bool = True
    update: bool = True
    delete: bool = False
    name: str = ""
    # The field that holds the person id, used for upserts when the org marks it externalId.
    external_id: str | None = EXTERNAL_ID_FIELD

    @property
    def label(self) -> str:
        """The step's name in the status (its profile name, else ``Person to <object>``)."""
        return self.name or f"Person to {self.sobject}"

    def fields(self) -> list[str]:
        """The Salesforce fields the step writes (relationship paths are read-only)."""
        return list(
            dict.fromkeys(
                line.salesforce_field
                for line in self.lines
                if "." not in line.salesforce_field
                and (
                    line.applies(inbound=False, creating=True)
                    or line.applies(inbound=False, creating=False)
                )
            )
        )


def default_steps() -> tuple[OutboundStep, ...]:
    """Person -> Lead (new persons become Leads) and Person -> Contact (linked contacts)."""
    return (
        OutboundStep("Lead", OUTBOUND_MAPPINGS["Lead"]),
        OutboundStep("Contact", OUTBOUND_MAPPINGS["Contact"], create=False),
    )


@dataclass
class OutboundReport:
    """What a pass did."""

    changes: int = 0
    persons: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    forgotten: int = 0
    linked: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RecordError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    retrying: int = 0
    given_up: int = 0
    # By step label: what each step wrote, the errors of its records and its warnings.
    steps: dict[str, Counts] = field(default_factory=dict)
    step_errors: dict[str, list[RecordError]] = field(default_factory=dict)
    step_duplicates: dict[str, list[str]] = field(default_factory=dict)
    clean: list[str] = field(default_factory=list)  # persons pushed without an error
    conflicts: list[Conflict] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "changes": self.changes,
            "persons": self.persons,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "forgotten": self.forgotten,
            "linked": self.linked,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "retrying": self.retrying,
            "given_up": self.given_up,
            "duplicates": self.duplicates[:20],
            "steps": {
                name: {
                    "created": c.created,
                    "updated": c.updated,
                    "deleted": c.deleted,
                    "rejected": c.rejected,
                }
                for name, c in self.steps.items()
            },
            "conflicts": [c.to_json() for c in self.conflicts[:50]],
            "errors": [
                {
                    "record": e.record,
                    "code": e.code,
                    "field": e.field,
                    "error": e.detail,
                    "hint": e.hint,
                }
                for e in self.errors[:50]
            ],
        }


@dataclass
class _Pass:
    """What one page collects before it is committed."""

    links: list[ExternalLink] = field(default_factory=list)
    retries: dict[str, RetryEntry] = field(default_factory=dict)


class OutboundRunner:
    """Pushes People changes to Salesforce for the steps of one integration."""

    def __init__(
        self,
        client: SalesforceClient,
        store: PeopleStore,
        steps: Sequence[OutboundStep],
        clock: Clock,
        *,
        integration: str = "default",
        page_size: int = 50_000,
        gap_timeout: timedelta = DEFAULT_GAP_TIMEOUT,
        phone_region: str | None = None,
        dry_run: bool = False,
    ) -> None:
        self.client = client
        self.dry_run = dry_run  # plan and look up, write nothing (with a PreviewClient)
        self.store = store
        self.steps = {step.sobject: step for step in steps}
        self.clock = clock
        self.system = f"salesforce:{integration}"
        self.page_size = page_size
        self.gap_timeout = gap_timeout
        self.phone_region = phone_region or getattr(store, "default_phone_region", None)
        self._external_ids: dict[str, str | None] = {}

    @property
    def state_key(self) -> str:
        """Where the log position and the retry list are kept."""
        return f"{self.system}:push"

    async def run_once(
        self, *, retry_failed: bool = False, report: OutboundReport | None = None
    ) -> OutboundReport:
        """Push every change since the stored position, and the failed persons whose retry is
        due (all of them with ``retry_failed``). ``report`` (when given) is filled as the pass
        goes, so what was done before an error is known too."""
        report = report if report is not None else OutboundReport()
        stored = await self.store.get_state(self.state_key) or {}
        position = LogPosition.from_json(stored.get("position"))
        work = _Pass(
            retries={k: RetryEntry.from_json(v) for k, v in dict(stored.get("retry", {})).items()}
        )
        retry_now = due(work.retries, self.clock.now(), everything=retry_failed)
        after = position.read_from()
        while True:
            page = await self.store.changes_since(after, limit=self.page_size)
            wanted = [change for change in page if position.wanted(change.seq)]
            ids, skipped = persons_to_push(wanted, own_origin=self.system)
            report.changes += len(wanted)
            report.skipped += skipped
            ids = list(dict.fromkeys([*ids, *retry_now]))
            retry_now = []
            gone = deleted_links(wanted, own_origin=self.system)
            try:
                if gone:
                    await self._delete(gone, report, work)
                if ids:
                    await self._push(ids, report, work)
            except PeopleSyncError:
                # Keep what Salesforce accepted before the failure; the page is read again.
                await self._commit(work, position, stored)
                raise
            position = position.advance([c.seq for c in page], self.clock.now(), self.gap_timeout)
            stored = await self._commit(work, position, stored)
            work.links = []
            if len(page) < self.page_size:
                break
            after = page[-1].seq
        report.retrying = len(work.retries)
        return report

    async def _commit(
        self, work: _Pass, position: LogPosition, stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        value = {
            "position": position.to_json(),
            "retry": {pid: entry.to_json() for pid, entry in work.retries.items()},
        }
        if self.dry_run:
            return value
        if work.links or value != stored:
            # A record linked by email and then updated appears twice: the last state wins.
            links = {(x.system, x.object, x.external_id): x for x in work.links}
            await self.store.apply_removals(
                origin=self.system, link=list(links.values()), state=(self.state_key, value)
            )
        return value

    async def _push(self, ids: list[str], report: OutboundReport, work: _Pass) -> None:
        persons = await self.store.get_persons(ids)
        for gone in set(ids) - set(persons):
            work.retries.pop(gone, None)
        report.persons += len(persons)
        all_links: dict[str, list[ExternalLink]] = {}
        person_ids = list(persons)
        for start in range(0, len(person_ids), STORE_CHUNK):
            all_links.update(
                await self.store.links_of("person", person_ids[start : start + STORE_CHUNK])
            )
        definitions = await self.store.attributes()
        updates: dict[str, list[tuple[Person, ExternalLink]]] = {}
        creates: list[Person] = []
        creator = next((s for s in self.steps.values() if s.create), None)
        for person in persons.values():
            mine = {
                link.object: link
                for link in reversed(all_links.get(person.id, []))
                if link.system == self.system
            }
            # A person linked to a Contact (a converted Lead's) is written to the Contact only.
            target = "Contact" if "Contact" in mine else "Lead" if "Lead" in mine else None
            step = self.steps.get(target) if target else creator
            if step is None or (target is not None and not step.update):
                report.skipped += 1
                work.retries.pop(person.id, None)
            elif target is None:
                creates.append(person)
            else:
                updates.setdefault(step.sobject, []).append((person, mine[step.sobject]))
        first_error = len(report.errors)
        if creates and creator is not None:
            creates = await self._known_to_mirror(creates, report, work)
        if creates and creator is not None:
            with self._tally(creator, report):
                matches = await self._match(creates, creator, report, work)
            for sobject, found in matches.items():
                updates.setdefault(sobject, []).extend(found)
            matched = {person.id for pairs in updates.values() for person, _ in pairs}
            creates = [p for p in creates if p.id not in matched]
        for sobject, pairs in updates.items():
            with self._tally(self.steps[sobject], report):
                await self._update(self.steps[sobject], pairs, definitions, report, work)
        if creates and creator is not None:
            with self._tally(creator, report):
                await self._create(creator, creates, report, work)
        failed = {error.record for error in report.errors[first_error:]}
        report.clean += [pid for pid in persons if f"person {pid}" not in failed]

    @contextmanager
    def _tally(self, step: OutboundStep, report: OutboundReport) -> Iterator[None]:
        """Credit what the report gains inside the block to ``step``."""
        before = (report.created, report.updated, report.deleted)
        errors, duplicates = len(report.errors), len(report.duplicates)
        try:
            yield
        finally:
            gained = Counts(
                report.created - before[0],
                report.updated - before[1],
                report.deleted - before[2],
                len(report.errors) - errors,
            )
            report.steps[step.label] = report.steps.get(step.label, Counts()) + gained
            report.step_errors.setdefault(step.label, []).extend(report.errors[errors:])
            report.step_duplicates.setdefault(step.label, []).extend(report.duplicates[duplicates:])

    async def _delete(
        self, gone: Mapping[str, list[tuple[str, str]]], report: OutboundReport, work: _Pass
    ) -> None:
        """Persons deleted in People: delete their linked records where the step's delete
        switch is on (never a converted Lead), else only forget the links (the store dropped
        them with the person)."""
        targets: dict[str, list[str]] = {}
        for person_id, pairs in gone.items():
            work.retries.pop(person_id, None)
            for sobject, record_id in pairs:
                step = self.steps.get(sobject)
                if step is None or not step.delete:
                    report.forgotten += 1
                else:
                    targets.setdefault(sobject, []).append(record_id)
        if targets.get("Lead"):
            targets["Lead"] = await self._unconverted(targets["Lead"], report)
        for sobject, ids in targets.items():
            step = self.steps[sobject]
            with self._tally(step, report):
                results = await self.client.delete_many(ids) if ids else []
                for record_id, result in zip(ids, results, strict=True):
                    first: Mapping[str, Any] = (result.get("errors") or [{}])[0]
                    code = str(first.get("statusCode") or first.get("errorCode") or "")
                    if result.get("success"):
                        report.deleted += 1
                        continue
                    if code in GONE:
                        continue
                    report.errors.append(
                        SalesforceRecordError(
                            f"deleting {sobject} {record_id}: {first.get('message') or code}",
                            error_code=code or "UNKNOWN_EXCEPTION",
                            record=f"{sobject} {record_id}",
                            fields=list(first.get("fields") or []),
                        )
                    )

    async def _unconverted(self, ids: list[str], report: OutboundReport) -> list[str]:
        """The Leads of ``ids`` that exist and are not converted: a converted Lead belongs
        to its Contact and Account now and is never deleted (its link is forgotten)."""
        keep: list[str] = []
        for start in range(0, len(ids), LOOKUP_SIZE):
            where = soql("Id IN {}", ids[start : start + LOOKUP_SIZE])
            async for record in self.client.query(
                select("Lead", ["Id", "IsConverted"], where=where)
            ):
                if record.get("IsConverted"):
                    report.forgotten += 1
                else:
                    keep.append(str(record["Id"]))
        return keep

    async def _known_to_mirror(
        self, persons: list[Person], report: OutboundReport, work: _Pass
    ) -> list[Person]:
        """Persons to create less those whose email a record in the inbound mirror already
        has (a Lead or Contact linked to another person): creating would duplicate it, and
        no lookup is spent on them. What the mirror does not know is looked up by email."""
        emails = {e.casefold(): p for p in persons for e in p.emails}
        if not emails:
            return persons
        owners = await self.store.find_by_emails(list(emails))
        others = {
            owner: key for key, owner in owners.items() if key in emails and owner != emails[key].id
        }
        if not others:
            return persons
        links = await self.store.links_of("person", list(others))
        known: set[str] = set()
        for owner, owner_links in links.items():
            for link in owner_links:
                if link.system != self.system or link.object not in ("Lead", "Contact"):
                    continue
                email = str(link.state.get("Email") or "").casefold()
                person = emails.get(email)
                if person is None or person.id in known:
                    continue
                known.add(person.id)
                work.retries.pop(person.id, None)
                report.duplicates.append(
                    f"person {person.id} has the email {email} of {link.object} "
                    f"{link.external_id}, linked to person {owner}; it is not created again "
                    "(merge the two persons in People)"
                )
        return [p for p in persons if p.id not in known]

    async def _match(
        self, persons: list[Person], creator: OutboundStep, report: OutboundReport, work: _Pass
    ) -> dict[str, list[tuple[Person, ExternalLink]]]:
        """Link unlinked persons to records that have their email (Contacts first, then
        unconverted Leads) instead of creating duplicates; also what finds the records a
        crashed or timed-out create made.

        The ``Email IN (...)`` lists are as long as the SOQL limit allows and run five to a
        Composite call (``salesforce.lookup``): 10,000 persons cost 2 calls for both objects.
        """
        by_email = {p.email.casefold(): p for p in persons if p.email}
        found: dict[str, list[tuple[Person, ExternalLink]]] = {}
        if not by_email:
            return found
        now = self.clock.now()
        queries: list[tuple[str, OutboundStep, str]] = []
        order = [s for s in ("Contact", "Lead") if s in self.steps or s == creator.sobject]
        for sobject in order:
            step = self.steps.get(sobject, creator)
            if sobject != creator.sobject and not step.update:
                continue
            fields = list(dict.fromkeys(["Id", "Email", *step.fields()]))

            def build(batch: list[str], sobject: str = sobject, fields: list[str] = fields) -> str:
                where = soql("Email IN {}", batch)
                if sobject == "Lead":
                    where += " AND IsConverted = false"
                return select(sobject, fields, where=where, order_by="CreatedDate, Id")

            queries += [(q, step, sobject) for q in in_batches(list(by_email), build)]
        records = await query_many(self.client, [q for q, _, _ in queries])
        steps = {sobject: step for _, step, sobject in queries}
        linked_emails: dict[str, set[str]] = {}
        for record in records:
            kind = str((record.get("attributes") or {}).get("type") or "")
            if kind not in steps:
                kind = "Contact" if str(record.get("Id", "")).startswith("003") else "Lead"
            step = steps[kind]
            email = str(record.get("Email") or "").casefold()
            person = by_email.pop(email, None)
            if person is None:
                if email in linked_emails.get(kind, set()):
                    report.duplicates.append(
                        f"{kind} {record['Id']} has the email {email} of a record "
                        "already linked; it is left alone (merge the duplicates)"
                    )
                continue
            state = {name: record.get(name) for name in step.fields()}
            link = ExternalLink(
                "person", person.id, self.system, kind, str(record["Id"]), state, now
            )
            work.links.append(link)
            report.linked += 1
            linked_emails.setdefault(kind, set()).add(email)
            found.setdefault(kind, []).append((person, link))
        return found

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
        for record in await query_many(self.client, queries):
            current[str(record["Id"])[:15]] = {n: record.get(n) for n in step.fields()}
        return [
            (p, dataclasses.replace(link, state=current.get(link.external_id[:15], {})))
            if not link.state
            else (p, link)
            for p, link in pairs
        ]

    async def _write(
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
        if not self.dry_run and prefer_bulk(operation, len(records)):
            job = await BulkIngest(self.client).run(
                sobject, operation, records, external_id_field=external_id_field
            )
            return job.results
        if operation == "update":
            return list(await self.client.update_many(sobject, records))
        if operation == "upsert" and external_id_field:
            return list(await self.client.upsert_many(sobject, external_id_field, records))
        # A timeout here is not retried blindly: the page is read again and the email
        # lookup finds what the lost answer had created.
        return list(await self.client.create_many(sobject, records, retry_unsure=False))

    async def _update(
        self,
        step: OutboundStep,
        pairs: list[tuple[Person, ExternalLink]],
        definitions: Mapping[str, AttributeDefinition],
        report: OutboundReport,
        work: _Pass,
    ) -> None:
        pairs = await self._refresh_unknown(step, pairs)
        rows: list[tuple[Person, ExternalLink, dict[str, Any]]] = []
        for person, link in pairs:
            diff = update_values(
                person, step.lines, link.state, definitions, phone_region=self.phone_region
            )
            if diff:
                rows.append((person, link, diff))
            else:
                report.unchanged += 1
                work.retries.pop(person.id, None)
        rows = await self._settle(step, rows, definitions, report, work)
        if not rows:
            return
        results = await self._write(
            step.sobject, "update", [{"Id": link.external_id, **diff} for _, link, diff in rows]
        )
        now = self.clock.now()
        fresh = await self._fresh_links(step, [link for _, link, _ in rows])
        unknown = 0
        for (person, link, diff), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
            elif result.get("success"):
                base = fresh.get(link.external_id)
                state = {**(base.state if base and base.state else link.state), **diff}
                work.links.append(dataclasses.replace(link, state=state, synced_at=now))
                report.updated += 1
                if work.retries.get(person.id, _NO_RETRY).code != AWAITING_INBOUND:
                    work.retries.pop(person.id, None)
            else:
                self._failed(person, f"{step.sobject} {link.external_id}", result, report, work)
        if unknown:
            raise SalesforceUnavailableError(
                f"{unknown} {step.sobject} updates have no known outcome; the page is pushed again",
                error_code="JOB_INCOMPLETE",
            )

    async def _external_id(self, step: OutboundStep) -> str | None:
        """The step's external-id field when the org's describe marks it ``externalId``."""
        if step.external_id is None:
            return None
        if step.sobject not in self._external_ids:
            fields = (await self.client.describe(step.sobject)).get("fields", [])
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
            stored |= await self.store.find_links(self.system, step.sobject, chunk)
        return stored

    async def _settle(
        self,
        step: OutboundStep,
        rows: list[tuple[Person, ExternalLink, dict[str, Any]]],
        definitions: Mapping[str, AttributeDefinition],
        report: OutboundReport,
        work: _Pass,
    ) -> list[tuple[Person, ExternalLink, dict[str, Any]]]:
        """Rows without the two-way fields whose Salesforce change wins over People's.

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
        current = {str(r["Id"])[:15]: r for r in await query_many(self.client, queries)}
        kept: list[tuple[Person, ExternalLink, dict[str, Any]]] = []
        for person, link, diff in rows:
            record = current.get(link.external_id[:15])
            if record is None:
                kept.append((person, link, diff))
                continue
            modified = record.get("LastModifiedDate")
            conflicts = settle(
                f"{step.sobject} {link.external_id}",
                [line for line in step.lines if line.salesforce_field in diff],
                link.state,
                record,
                person_values(person, step.lines, creating=False),
                definitions,
                Moment(parse_modstamp(str(modified)) if modified else None, person.updated_at),
                phone_region=self.phone_region,
            )
            report.conflicts += conflicts
            beaten = losing(conflicts, Side.PEOPLE)
            if beaten:
                work.retries[person.id] = RetryEntry(0, self.clock.now(), AWAITING_INBOUND)
            diff = {name: value for name, value in diff.items() if name not in beaten}
            if diff:
                kept.append((person, link, diff))
            elif not beaten:
                report.unchanged += 1
        return kept

    async def _create(
        self, step: OutboundStep, persons: list[Person], report: OutboundReport, work: _Pass
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
        # With an external-id field holding the person id, the write is an upsert: a repeat
        # after a lost answer or a crash finds the record it made instead of making another.
        external_id = await self._external_id(step)
        if external_id:
            results = await self._write(
                step.sobject,
                "upsert",
                [{**values, external_id: person.id} for person, values in rows],
                external_id,
            )
        else:
            results = await self._write(step.sobject, "insert", [v for _, v in rows])
        now = self.clock.now()
        unknown = 0
        for (person, values), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
            elif result.get("success"):
                work.links.append(
                    ExternalLink(
                        "person",
                        person.id,
                        self.system,
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
                self._failed(person, f"new {step.sobject}", result, report, work)
        if unknown:
            # Not retried here: the page is read again, and the email lookup (or the upsert
            # key) finds what the job made before anything is created again.
            raise SalesforceUnavailableError(
                f"{unknown} new {step.sobject} records have no known outcome; "
                "they are looked up before being created again",
                error_code="JOB_INCOMPLETE",
            )

    def _failed(
        self,
        person: Person,
        target: str,
        result: Mapping[str, Any],
        report: OutboundReport,
        work: _Pass,
    ) -> None:
        """A record Salesforce rejected: an error entry with its code, field and fix hint,
        and a retry later (with backoff) that blocks nobody else."""
        first: Mapping[str, Any] = (result.get("errors") or [{}])[0]
        code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_EXCEPTION")
        report.errors.append(
            SalesforceRecordError(
                f"{target}: {first.get('message') or code}",
                error_code=code,
                record=f"person {person.id}",
                fields=list(first.get("fields") or []),
            )
        )
        entry = next_retry(work.retries.get(person.id), code, self.clock.now())
        if entry is None:
            work.retries.pop(person.id, None)
            report.given_up += 1
        else:
            work.retries[person.id] = entry


__all__ = ["OutboundReport", "OutboundRunner", "OutboundStep", "default_steps"]
