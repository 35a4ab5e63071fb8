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
outcome is treated the same way. While a full page waits for Salesforce, the next page and
its persons are read ahead (``outbound_read``); each page runs with the garbage collector
paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import PeopleSyncError
from peoplesync.people.bulk_writer import paused_gc
from peoplesync.people.model import Change, ExternalLink, Person
from peoplesync.people.person_filter import SegmentRule
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.api import SalesforceApi
from peoplesync.sync.outbound.account_plan import COMPANY_KEY, companies_to_push
from peoplesync.sync.outbound.account_push import AccountPusher
from peoplesync.sync.outbound.delete import OutboundDeleter
from peoplesync.sync.outbound.match import OutboundMatcher
from peoplesync.sync.outbound.plan import (
    DEFAULT_GAP_TIMEOUT,
    LogPosition,
    RetryEntry,
    deleted_links,
    due,
    persons_to_push,
)
from peoplesync.sync.outbound.read import PersonReads, read_ahead, read_persons
from peoplesync.sync.outbound.report import OutboundReport, PageWork, tally
from peoplesync.sync.outbound.repush import cleared, fingerprint, repush_key, repush_linked, waiting
from peoplesync.sync.outbound.segment import (
    SegmentLoader,
    in_segment,
    load_segment_rules,
    store_segments,
)
from peoplesync.sync.outbound.step import (
    EXTERNAL_ID_FIELD,
    STORE_CHUNK,
    OutboundStep,
    default_steps,
)
from peoplesync.sync.outbound.write import OutboundWriter

PERSON_OBJECTS = ("Lead", "Contact")


class OutboundRunner:
    """Pushes People changes to Salesforce for the steps of one integration."""

    def __init__(
        self,
        client: SalesforceApi,
        store: PeopleStore,
        steps: Sequence[OutboundStep],
        clock: Clock,
        *,
        integration: str = "default",
        page_size: int = 50_000,
        gap_timeout: timedelta = DEFAULT_GAP_TIMEOUT,
        phone_region: str | None = None,
        dry_run: bool = False,
        segments: SegmentLoader | None = None,
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
        self._load_segments = segments or store_segments(store)
        self._segments: Mapping[str, SegmentRule] = {}
        self._matcher = OutboundMatcher(self)
        self._writer = OutboundWriter(self)
        self._deleter = OutboundDeleter(self)
        self._accounts = AccountPusher(self, self._writer)

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
        work = PageWork(
            retries={k: RetryEntry.from_json(v) for k, v in dict(stored.get("retry", {})).items()}
        )
        retry_now = due(work.retries, self.clock.now(), everything=retry_failed)
        self._segments = await load_segment_rules(
            [step.segment for step in self.steps.values()], self._load_segments
        )
        stored = await self._repush(report, work, position, stored)
        page = await self.store.changes_since(position.read_from(), limit=self.page_size)
        reads: PersonReads | None = None
        while True:
            # A full page may have a next one: read it once this one has read its own, while
            # this one waits for Salesforce.
            read = asyncio.Event()
            ahead = (
                asyncio.create_task(
                    read_ahead(self.store, page[-1].seq, self.page_size, self.system, read)
                )
                if len(page) == self.page_size
                else None
            )
            try:
                with paused_gc():  # a page's persons and links form no cycles
                    position, stored = await self._push_page(
                        page, retry_now, position, stored, report, work, reads, read
                    )
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                    with contextlib.suppress(BaseException):
                        await ahead
                raise
            if ahead is None:
                break
            following = await ahead
            # Read before this page's commit: what it pushed is read again.
            following.reads.forget([*(c.entity_id for c in page), *retry_now])
            page, reads, retry_now = following.page, following.reads, []
        report.retrying = len(work.retries)
        return report

    async def _push_page(
        self,
        page: Sequence[Change],
        retry_now: list[str],
        position: LogPosition,
        stored: dict[str, Any],
        report: OutboundReport,
        work: PageWork,
        reads: PersonReads | None = None,
        read: asyncio.Event | None = None,
    ) -> tuple[LogPosition, dict[str, Any]]:
        """Push one page of changes (and the retries due) and commit it with the position
        after it; returns that position and the stored value. ``reads``: persons already
        read for the page; ``read`` is set once the page has read what it pushes."""
        wanted = [change for change in page if position.wanted(change.seq)]
        ids, skipped = persons_to_push(wanted, own_origin=self.system)
        report.changes += len(wanted)
        report.skipped += skipped
        companies, skipped = companies_to_push(wanted, own_origin=self.system)
        report.skipped += skipped
        ids = list(dict.fromkeys([*ids, *retry_now]))
        companies += [i.removeprefix(COMPANY_KEY) for i in ids if i.startswith(COMPANY_KEY)]
        ids = [i for i in ids if not i.startswith(COMPANY_KEY)]
        gone = deleted_links(wanted, own_origin=self.system)
        gone_companies = deleted_links(wanted, own_origin=self.system, entity_type="company")
        account_step = self.steps.get("Account")
        try:
            if gone:
                await self._deleter.delete(gone, report, work)
            if gone_companies:  # after the persons: their Contacts may hold the Account
                await self._deleter.delete_accounts(gone_companies, report, work)
            if companies and account_step is not None:
                # Before the persons: a Contact's AccountId comes from its company's link.
                with tally(account_step, report):
                    await self._accounts.push(
                        account_step, list(dict.fromkeys(companies)), report, work
                    )
            elif companies:
                for company_id in companies:
                    work.retries.pop(COMPANY_KEY + company_id, None)
            if ids:
                await self._push(ids, report, work, reads, read)
        except PeopleSyncError:
            # Keep what Salesforce accepted before the failure; the page is read again.
            await self._commit(work, position, stored)
            await self._forget_attempts(work)
            raise
        finally:
            if read is not None:
                read.set()  # also for a page that pushed no person
        position = position.advance([c.seq for c in page], self.clock.now(), self.gap_timeout)
        stored = await self._commit(work, position, stored)
        await self._forget_attempts(work)
        return position, stored

    async def _repush(
        self, report: OutboundReport, work: PageWork, position: LogPosition, stored: dict[str, Any]
    ) -> dict[str, Any]:
        """Steps marked after a mapping change first push every linked person or company
        (``sync.repush``); each page is committed, the mark cleared at the end."""
        key = repush_key(self.system)
        prints = {step.label: fingerprint(step.lines) for step in self.steps.values()}
        names = waiting(await self.store.get_state(key), prints)
        for step in [s for s in self.steps.values() if s.label in names]:

            async def push(ids: list[str], step: OutboundStep = step) -> None:
                nonlocal stored
                try:
                    with paused_gc():
                        if step.sobject == "Account":
                            with tally(step, report):
                                await self._accounts.push(step, ids, report, work)
                        else:
                            await self._push(ids, report, work)
                except PeopleSyncError:  # keep what Salesforce accepted; the mark stays
                    await self._commit(work, position, stored)
                    raise
                stored = await self._commit(work, position, stored)
                await self._forget_attempts(work)

            entity = "company" if step.sobject == "Account" else "person"
            await repush_linked(
                self.store, self.system, step.sobject, push, entity, page_size=self.page_size
            )
            if not self.dry_run:
                left = cleared(await self.store.get_state(key), step.label, prints[step.label])
                await self.store.set_state(key, left)
        return stored

    async def _forget_attempts(self, work: PageWork) -> None:
        """Once a page is committed: drop the create attempts it settled (their links are
        committed, or Salesforce refused them), and start the next page afresh. Its settled
        update attempts went with the commit (``_commit``)."""
        await self._writer.attempts.forget(work.settled)
        work.links, work.settled, work.sent = [], [], {}

    async def _with_account_ids(
        self, persons: dict[str, Person], work: PageWork
    ) -> dict[str, Person]:
        """Persons whose ``company_id`` reads as their company's Account id (the link saved
        or made in this pass), for lines mapping ``AccountId`` to ``company_id``."""
        company_ids = list({p.company_id for p in persons.values() if p.company_id})
        accounts: dict[str, str] = {}
        for start in range(0, len(company_ids), STORE_CHUNK):
            chunk = company_ids[start : start + STORE_CHUNK]
            for company_id, links in (await self.store.links_of("company", chunk)).items():
                for link in links:
                    if link.system == self.system and link.object == "Account":
                        accounts[company_id] = link.external_id
        for link in work.links:
            if link.entity_type == "company" and link.object == "Account":
                accounts[link.entity_id] = link.external_id
        return {
            pid: dataclasses.replace(
                person,
                attributes={
                    **person.attributes,
                    "company_id": accounts.get(person.company_id or ""),
                },
            )
            for pid, person in persons.items()
        }

    async def _commit(
        self, work: PageWork, position: LogPosition, stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        value = {
            "position": position.to_json(),
            "retry": {pid: entry.to_json() for pid, entry in work.retries.items()},
        }
        if self.dry_run:
            return value
        if work.links or work.sent or value != stored:
            # A record linked by email and then updated appears twice: the last state wins.
            links = {(x.system, x.object, x.external_id): x for x in work.links}
            # The update attempts settled go in the same transaction (``sent_updates``).
            await self.store.apply_removals(
                origin=self.system,
                link=list(links.values()),
                state=(self.state_key, value),
                settled=(self.system, work.sent) if work.sent else None,
            )
            work.sent = {}
        return value

    async def _push(
        self,
        ids: list[str],
        report: OutboundReport,
        work: PageWork,
        reads: PersonReads | None = None,
        read: asyncio.Event | None = None,
    ) -> None:
        persons, all_links = await read_persons(self.store, ids, reads)
        if read is not None:
            read.set()
        for gone in set(ids) - set(persons):
            work.retries.pop(gone, None)
        report.persons += len(persons)
        definitions = await self.store.attributes()
        updates: dict[str, list[tuple[Person, ExternalLink]]] = {}
        creates: list[Person] = []
        creator = next(
            (s for s in self.steps.values() if s.create and s.sobject in PERSON_OBJECTS), None
        )
        if any(line.attribute == "company_id" for s in self.steps.values() for line in s.lines):
            persons = await self._with_account_ids(persons, work)
        for person in persons.values():
            mine = {
                link.object: link
                for link in reversed(all_links.get(person.id, []))
                if link.system == self.system
            }
            # A person linked to a Contact (a converted Lead's) is written to the Contact only.
            target = "Contact" if "Contact" in mine else "Lead" if "Lead" in mine else None
            step = self.steps.get(target) if target else creator
            if (
                step is None
                or (target is not None and not step.update)
                or not in_segment(step.segment, self._segments, person)
            ):
                report.skipped += 1
                work.retries.pop(person.id, None)
            elif target is None:
                creates.append(person)
            else:
                updates.setdefault(step.sobject, []).append((person, mine[step.sobject]))
        first_error = len(report.errors)
        if creates and creator is not None:
            creates = await self._matcher.known_to_mirror(creates, report, work)
        if creates and creator is not None:
            with tally(creator, report):
                matches = await self._matcher.match(creates, creator, report, work)
                earlier = await self._writer.attempts.find(creates, creator, report)
                work.links += [link for _, link in earlier]
                work.settled += [person.id for person, _ in earlier]
                if earlier:
                    matches.setdefault(creator.sobject, []).extend(earlier)
            for sobject, found in matches.items():
                updates.setdefault(sobject, []).extend(found)
            matched = {person.id for pairs in updates.values() for person, _ in pairs}
            creates = [p for p in creates if p.id not in matched]
        # Linked (now or before): a create attempt left by a dead push is over once the
        # links are committed.
        work.settled += [person.id for pairs in updates.values() for person, _ in pairs]
        for sobject, pairs in updates.items():
            with tally(self.steps[sobject], report):
                await self._writer.update(self.steps[sobject], pairs, definitions, report, work)
        if creates and creator is not None:
            with tally(creator, report):
                await self._writer.create(creator, creates, report, work)
        failed = {error.record for error in report.errors[first_error:]}
        report.clean += [pid for pid in persons if f"person {pid}" not in failed]


__all__ = [
    "EXTERNAL_ID_FIELD",
    "OutboundReport",
    "OutboundRunner",
    "OutboundStep",
    "default_steps",
]
