"""Reading a poll's records through one Bulk API 2.0 job, in batches that can be resumed.

Bulk API 2.0 does not support ORDER BY (Salesforce lists it among the unsupported clauses, and
using it anyway disables PK chunking, which makes large jobs time out), so records arrive in
no particular order and the cursor cannot advance batch by batch. Instead every batch is
committed with a ``BulkProgress``: the job, the results page (its locator) and how many of its
records are applied, and the highest position applied so far. The cursor itself moves only
with the last batch of the job, to that highest position. A process killed mid-transfer comes
back to the same job and page, skips what it applied, and goes on; when the job is gone
(results are kept for a limited time) the read starts over from the committed cursor, and the
records already applied are recognised by their links and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import timedelta
from itertools import islice
from typing import Any

from peoplesync.salesforce.bulk import BulkQuery, field_types, parse_page
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceRequestError
from peoplesync.sync.inbound.cursor import BulkProgress, Cursor, advance, poll_query

Batch = tuple[list[dict[str, Any]], BulkProgress, bool]


async def _usable_job(query: BulkQuery, progress: BulkProgress) -> bool:
    """Whether an interrupted read's job can still be read (it exists and completed)."""
    try:
        info = await query.info(progress.job_id)
        if info.get("state") != "JobComplete":
            await query.wait(progress.job_id)
    except SalesforceRequestError:  # gone (NOT_FOUND), failed or aborted
        return False
    return True


async def bulk_batches(
    client: SalesforceClient,
    sobject: str,
    fields: Sequence[str],
    cursor: Cursor | None,
    resume: BulkProgress | None,
    *,
    overlap: timedelta,
    condition: str | None,
    batch_size: int,
    page_size: int,
    on_total: Callable[[int, int], Any] | None = None,
) -> AsyncGenerator[Batch, None]:
    """Batches of records, each with the progress that holds once it is applied, and whether
    it is the job's last batch (which may be empty).

    ``resume`` continues an interrupted read; ``on_total`` hears (records already applied,
    records in the job) once the job is known.
    """
    query = BulkQuery(client, page_size=page_size)
    columns = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    types = await field_types(client, sobject, columns)
    if resume is None or not await _usable_job(query, resume):
        soql = poll_query(
            sobject, columns, cursor, overlap=overlap, condition=condition, ordered=False
        )
        # After the first load deleted records come too (queryAll), as on the REST path.
        job_id = await query.start(soql, include_deleted=cursor is not None)
        info = await query.wait(job_id)
        resume = BulkProgress(job_id, total=int(info.get("numberRecordsProcessed") or 0))
    if on_total is not None:
        on_total(resume.applied, resume.total)
    job_id, locator, skip = resume.job_id, resume.locator, resume.skip
    applied, highest = resume.applied, resume.highest if resume.highest else cursor
    following: asyncio.Task[tuple[str, str | None]] | None = None
    try:
        text, next_locator = await query.page(job_id, locator)
        while True:
            # The next page downloads while this one is applied.
            following = (
                asyncio.create_task(query.page(job_id, next_locator)) if next_locator else None
            )
            done = skip
            batch: list[dict[str, Any]] = []
            for record in islice(parse_page(text, types), skip, None):
                if len(batch) == batch_size:
                    done += len(batch)
                    applied += len(batch)
                    highest = advance(highest, batch)
                    yield (
                        batch,
                        BulkProgress(job_id, locator, done, applied, resume.total, highest),
                        False,
                    )
                    batch = []
                batch.append(record)
            del text
            applied += len(batch)
            highest = advance(highest, batch)
            last = following is None
            yield batch, BulkProgress(job_id, next_locator, 0, applied, resume.total, highest), last
            if following is None:
                return
            locator, skip = next_locator, 0
            text, next_locator = await following
            following = None
    finally:
        if following is not None:
            following.cancel()
            with contextlib.suppress(BaseException):
                await following
