"""Reading an inbound step's records: polling by SystemModstamp (REST pages, or Bulk API 2.0
for large reads) and following change streams, each batch handed to ``_apply``, which the
runner of the step's kind decides (``inbound``, ``company_inbound``) and the skeleton commits
(``inbound_skeleton``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.bulk import PAGE_SIZE
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.streaming import ALL_RETAINED, ChangeStream
from peoplesync.sync.inbound.bulk_read import bulk_batches
from peoplesync.sync.inbound.change_events import changed_ids, read_back_query
from peoplesync.sync.inbound.cursor import (
    DEFAULT_OVERLAP,
    BulkProgress,
    Cursor,
    count_query,
    dump_state,
    load_state,
    poll_query,
)
from peoplesync.sync.inbound.draft import Drafted
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.step import InboundStep

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


class InboundReads:
    """Reads one inbound step's records in batches and hands each to ``_apply``."""

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
            ids = changed_ids(events)
            replayed = (step.stream_key, {"replay_id": stream.replay_id})
            if ids:
                query = read_back_query(step, ids)
                records = [r async for r in self.client.query(query, include_deleted=True)]
                await self._apply(records, None, report, state=replayed)
            elif events:
                await self.store.set_state(*replayed)
            if stop(report):
                return report
        return report

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

    # --- what each kind of runner decides (the person runner in ``inbound``) -------------

    async def _draft_ahead(self, records: list[dict[str, Any]]) -> Drafted | None:
        """The draft of a batch made while the previous one is written (None: none)."""
        return None

    async def _follow_removals(self, records: list[dict[str, Any]], report: InboundReport) -> None:
        """Records in the recycle bin."""
        raise NotImplementedError

    async def _apply_locked(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None,
        everything: list[dict[str, Any]],
        drafted: Drafted | None = None,
    ) -> Cursor | None:
        """Decide one batch of live records and ``_commit`` it."""
        raise NotImplementedError


__all__ = ["BULK_BATCH", "BULK_THRESHOLD", "COUNT_AFTER", "InboundReads"]
