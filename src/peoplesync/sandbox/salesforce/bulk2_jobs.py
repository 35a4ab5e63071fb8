"""Bulk API 2.0 jobs: what they hold, how the org works through them, and keeping them.

A closed ingest job waits in the queue (``bulk_latency_seconds``), is ``InProgress`` while
its rows are applied 10,000 at a time at ``bulk_rows_per_second``, then ``JobComplete``. Every
state change and every chunk's results are stored (see ``bulk_store``): after a restart the
org finds its jobs, and one that was queued or in progress carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from dataclasses import dataclass, field, fields
from typing import Any

from peoplesync.sandbox.salesforce.api_context import ApiContext, ApiError
from peoplesync.sandbox.salesforce.bulk_pace import (
    ABORTED_MESSAGE,
    FAILED_MESSAGE,
    fate,
    queued_seconds,
    wait_after,
)
from peoplesync.sandbox.salesforce.bulk_store import BulkStore
from peoplesync.sandbox.salesforce.soql_compiler import (
    CompiledQuery,
    compile_soql,
    json_value,
    storage_datetime,
)

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
CHUNK = 10_000
API = "bulk2"
RESULT_PARTS = ("successes", "failures", "unprocessed")


@dataclass
class Job:
    """One Bulk 2.0 job and what it has done."""

    id: str
    kind: str  # ingest | query
    operation: str
    sobject: str
    created_by: str
    created: str
    api_version: str
    delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    modstamp: str = ""
    processed: int = 0
    failed: int = 0
    error: str | None = None
    columns: list[str] = field(default_factory=list)
    fate: str = ""
    uploaded: bool = False
    # Kept as parts of the job, not in its row:
    data: bytes = field(default=b"", metadata={"part": True})
    successes: list[list[str]] = field(default_factory=list, metadata={"part": True})
    failures: list[list[str]] = field(default_factory=list, metadata={"part": True})
    unprocessed: list[list[str]] = field(default_factory=list, metadata={"part": True})
    compiled: CompiledQuery | None = field(default=None, metadata={"part": True})
    # The open cursor over the results, taken when the job ran (gone after a restart: the
    # results are then read anew from where the client is).
    locator: str | None = field(default=None, metadata={"part": True})

    def row(self) -> dict[str, Any]:
        """The stored row: everything but the parts."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("part")}

    def info(self) -> dict[str, Any]:
        """The JobInfo body."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "numberRecordsProcessed": self.processed,
            "retries": 0,
            "totalProcessingTime": 0,
        }
        if self.kind == "ingest":
            body.update(
                externalIdFieldName=self.external_id,
                contentUrl=f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches",
                numberRecordsFailed=self.failed,
                apiActiveProcessingTime=0,
                apexProcessingTime=0,
            )
        if self.error:
            body["errorMessage"] = self.error
        return body


def _part(rows: list[list[str]]) -> bytes:
    return json.dumps(rows).encode()


class Bulk2Jobs:
    """The org's Bulk 2.0 jobs: kept in memory and in the org's database, and worked on."""

    def __init__(self, ctx: ApiContext, store: BulkStore) -> None:
        self.ctx = ctx
        self.store = store
        self.jobs: dict[str, Job] = {}
        self.draw = random.Random(ctx.config.bulk_draw_seed)
        self.tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Load stored jobs; those queued or in progress carry on."""
        for stored in await self.store.jobs(API):
            job = Job(**stored)
            if job.kind == "ingest":
                job.data = b"".join(await self.store.parts(job.id, "data"))
                for name in RESULT_PARTS:
                    for piece in await self.store.parts(job.id, name):
                        getattr(job, name).extend(json.loads(piece))
            self.jobs[job.id] = job
            if job.state in ("UploadComplete", "InProgress"):
                self.start(job)

    def start(self, job: Job) -> None:
        """Work on a queued job in the background."""
        work = self.process(job) if job.kind == "ingest" else self.run_query(job)
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        """Stop working: a chunk being written finishes first, so none is half-written."""
        async with self.ctx.records.lock:
            for task in list(self.tasks):
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def save(self, job: Job, parts: dict[tuple[str, int], bytes] | None = None) -> None:
        """Store the job's row (and new parts) after a change."""
        job.modstamp = str(json_value("datetime", storage_datetime(self.ctx.clock())))
        await self.store.save(API, job.id, job.row(), parts)

    async def add(self, job: Job) -> None:
        """A new job."""
        self.jobs[job.id] = job
        await self.save(job)

    async def upload(self, job: Job, data: bytes) -> None:
        """The job's CSV data, kept until the job is deleted."""
        job.data, job.uploaded = data, True
        await self.save(job, {("data", 0): data})

    async def queue(self, job: Job) -> None:
        """Close the job (``UploadComplete``) and start working on it."""
        job.state = "UploadComplete"
        job.fate = fate(self.ctx.config.knobs, self.draw)
        await self.save(job)
        self.start(job)

    async def delete(self, job: Job) -> None:
        """Forget a job."""
        self.jobs.pop(job.id, None)
        if job.locator is not None:
            await self.ctx.queries.close(job.locator)
        await self.store.delete(job.id)

    async def _end(self, job: Job, state: str, error: str | None, rows: list[list[str]]) -> None:
        job.state, job.error = state, error
        job.unprocessed = rows
        await self.save(job, {("unprocessed", 0): _part(rows)})

    @staticmethod
    def _rows(job: Job) -> tuple[list[str], list[list[str]]]:
        text = job.data.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
        header = next(reader, None)
        if not header:
            raise ValueError("the upload has no header row")
        job.columns = header
        return header, [row for row in reader if row]

    async def abort(self, job: Job) -> None:
        """Abort at the client's request; a job still queued leaves every row unprocessed."""
        queued = job.state == "UploadComplete"
        job.state = "Aborted"
        if job.locator is not None:
            await self.ctx.queries.close(job.locator)
            job.locator = None
        if not (queued and job.kind == "ingest"):
            await self.save(job)
            return
        try:
            rows = self._rows(job)[1]
        except (ValueError, csv.Error):
            rows = []
        await self._end(job, "Aborted", None, rows)

    async def process(self, job: Job) -> None:
        """Apply an ingest job's rows, chunk by chunk, from where it stopped."""
        knobs = self.ctx.config.knobs
        if job.state == "UploadComplete":
            await asyncio.sleep(queued_seconds(knobs))
        try:
            header, rows = self._rows(job)
        except (ValueError, csv.Error) as exc:
            await self._end(job, "Failed", f"InvalidBatch : {exc}", [])
            return
        if job.state == "Aborted":  # aborted while queued: every row is left unprocessed
            await self._end(job, "Aborted", job.error, rows[job.processed :])
            return
        if job.fate:
            message = FAILED_MESSAGE if job.fate == "Failed" else ABORTED_MESSAGE
            await self._end(job, job.fate, message, rows[job.processed :])
            return
        job.state = "InProgress"
        await self.save(job)
        loop = asyncio.get_running_loop()
        began, first = loop.time(), job.processed
        for start in range(job.processed, len(rows), CHUNK):
            if job.state == "Aborted":
                await self._end(job, "Aborted", job.error, rows[start:])
                return
            try:
                await self.apply(job, header, rows[start : start + CHUNK], start // CHUNK)
            except ApiError as exc:
                await self._end(job, "Failed", f"InvalidBatch : {exc}", rows[start:])
                return
            await asyncio.sleep(wait_after(knobs, job.processed - first, loop.time() - began))
        if job.state != "Aborted":
            job.state = "JobComplete"
        await self.save(job)

    def _record(
        self, job: Job, header: list[str], chunk: list[list[str]], results: list[Any], seq: int
    ) -> dict[tuple[str, int], bytes]:
        successes: list[list[str]] = []
        failures: list[list[str]] = []
        for row, result in zip(chunk, results, strict=True):
            if result.success:
                successes.append([result.id or "", "true" if result.created else "false", *row])
                continue
            error = result.errors[0]
            fields_ = ",".join(str(f) for f in error.get("fields", []))
            record_id = str(row[header.index("Id")]) if "Id" in header else ""
            failures.append(
                [record_id, f"{error['statusCode']}:{error['message']}:{fields_} --", *row]
            )
        job.successes += successes
        job.failures += failures
        job.failed += len(failures)
        job.processed += len(chunk)
        return {("successes", seq): _part(successes), ("failures", seq): _part(failures)}

    async def apply(self, job: Job, header: list[str], chunk: list[list[str]], seq: int) -> None:
        """Apply one chunk; its results are stored with it (inserts: in its transaction)."""
        service = self.ctx.records
        user_id = job.created_by
        records = [dict(zip(header, row, strict=False)) for row in chunk]
        if job.operation == "insert":

            async def staged(results: list[Any]) -> None:
                parts = self._record(job, header, chunk, results, seq)
                job.modstamp = str(json_value("datetime", storage_datetime(self.ctx.clock())))
                await self.store.stage(API, job.id, job.row(), parts)

            await service.create(user_id, job.sobject, records, from_csv=True, staged=staged)
            return
        if job.operation in ("update", "upsert"):
            # An empty field leaves the value as it is; #N/A sets it to null.
            records = [{k: v for k, v in r.items() if v != ""} for r in records]
        if job.operation == "update":
            results = await service.update(user_id, job.sobject, records, from_csv=True)
        elif job.operation == "upsert":
            results = await service.upsert(
                user_id, job.sobject, job.external_id or "Id", records, from_csv=True
            )
        else:
            ids = [r.get("Id", "") for r in records]
            results = await service.delete(user_id, ids, hard=job.operation == "hardDelete")
        await self.save(job, self._record(job, header, chunk, results, seq))

    def compiled(self, job: Job) -> CompiledQuery:
        """A query job's compiled SOQL (compiled again after a restart)."""
        if job.compiled is None:
            job.compiled = compile_soql(
                job.query or "",
                self.ctx.records.schema,
                include_deleted=job.operation == "queryAll",
                now=self.ctx.clock(),
                bulk="bulk2",
            )
        return job.compiled

    async def run_query(self, job: Job) -> None:
        """Count a query job's rows, taking the time an org would."""
        knobs = self.ctx.config.knobs
        if job.state == "UploadComplete":
            await asyncio.sleep(queued_seconds(knobs))
        if job.state == "Aborted":
            return
        if job.fate:
            message = FAILED_MESSAGE if job.fate == "Failed" else ABORTED_MESSAGE
            job.state, job.error = job.fate, message
            await self.save(job)
            return
        job.state = "InProgress"
        await self.save(job)
        queries = self.ctx.queries
        locator, opened, _ = await queries.start_compiled(self.compiled(job), first_page=0)
        job.locator = locator if locator in queries.open else None
        job.processed = opened.total
        await asyncio.sleep(wait_after(knobs, job.processed, 0.0, query=True))
        if job.state == "InProgress":
            job.state = "JobComplete"
        await self.save(job)
