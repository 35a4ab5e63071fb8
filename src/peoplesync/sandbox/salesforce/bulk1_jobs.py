"""Bulk API 1.0 jobs and batches: what they hold, how the org works through them, keeping them.

A batch is ``Queued`` when it arrives, ``InProgress`` after ``bulk_latency_seconds``, and
``Completed`` (or ``Failed``) once its rows are done at ``bulk_rows_per_second``. Jobs, batches
and their results are stored in the org's database (see ``bulk_store``), so they outlive a
restart; a batch that was queued or in progress carries on.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.bulk_pace import (
    ABORTED_MESSAGE,
    FAILED_MESSAGE,
    fate,
    queued_seconds,
    wait_after,
)
from peoplesync.sandbox.salesforce.bulk_store import BulkStore
from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.record_results import RequestError
from peoplesync.sandbox.salesforce.soql import SoqlError
from peoplesync.sandbox.salesforce.soql_compiler import compile_soql

API = "bulk1"
WAITING = ("Queued", "InProgress")


@dataclass
class Batch:
    """One batch and its results."""

    id: str
    job_id: str
    created: str
    state: str = "Queued"
    message: str = ""
    processed: int = 0
    failed: int = 0
    result_id: str = ""
    fate: str = ""
    # Kept as parts of the job, not in its row:
    request: bytes = field(default=b"", metadata={"part": True})
    results: list[dict[str, Any]] = field(default_factory=list, metadata={"part": True})
    result_body: bytes = field(default=b"", metadata={"part": True})

    def row(self) -> dict[str, Any]:
        """The stored row: everything but the parts."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("part")}

    def info(self) -> dict[str, Any]:
        """The batchInfo fields, in Salesforce's order."""
        return {
            "id": self.id,
            "jobId": self.job_id,
            "state": self.state,
            "stateMessage": self.message or None,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "numberRecordsProcessed": self.processed,
            "numberRecordsFailed": self.failed,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }


@dataclass
class Job:
    """A Bulk 1.0 job."""

    id: str
    operation: str
    sobject: str
    content_type: str
    created_by: str
    created: str
    api_version: str
    external_id: str | None = None
    state: str = "Open"
    json_api: bool = False
    batches: dict[str, Batch] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The stored row, batches included (without their parts)."""
        body = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "batches"}
        return {**body, "batches": [b.row() for b in self.batches.values()]}

    @property
    def json_batches(self) -> bool:
        """Batch replies are JSON only for JSON jobs; CSV and XML jobs get XML, whatever
        the format the job was created in."""
        return self.content_type == "JSON"

    def info(self) -> dict[str, Any]:
        """The jobInfo fields, in Salesforce's order."""
        states = [b.state for b in self.batches.values()]
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "state": self.state,
        }
        if self.external_id:
            body["externalIdFieldName"] = self.external_id
        body.update(
            concurrencyMode="Parallel",
            contentType=self.content_type,
            numberBatchesQueued=states.count("Queued"),
            numberBatchesInProgress=states.count("InProgress"),
            numberBatchesCompleted=states.count("Completed"),
            numberBatchesFailed=states.count("Failed") + states.count("Not Processed"),
            numberBatchesTotal=len(states),
            numberRecordsProcessed=sum(b.processed for b in self.batches.values()),
            numberRetries=0,
            apiVersion=float(self.api_version),
            numberRecordsFailed=sum(b.failed for b in self.batches.values()),
            totalProcessingTime=0,
            apiActiveProcessingTime=0,
            apexProcessingTime=0,
        )
        return body


def new_id(prefix: str) -> str:
    """A fresh id with ``prefix`` (750 jobs, 751 batches, 752 results) and its checksum."""
    raw = prefix + "8d" + secrets.token_hex(5).upper()
    return raw + checksum(raw)


class Bulk1Jobs:
    """The org's Bulk 1.0 jobs: kept in memory and in the org's database, and worked on."""

    def __init__(self, ctx: ApiContext, store: BulkStore) -> None:
        self.ctx = ctx
        self.store = store
        self.jobs: dict[str, Job] = {}
        self.draw = random.Random(ctx.config.bulk_draw_seed + 1)
        self.tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Load stored jobs; batches queued or in progress carry on."""
        for stored in await self.store.jobs(API):
            batches = [Batch(**b) for b in stored.pop("batches")]
            job = Job(**stored, batches={b.id: b for b in batches})
            self.jobs[job.id] = job
            for batch in batches:
                batch.request = b"".join(await self.store.parts(job.id, f"request:{batch.id}"))
                batch.result_body = b"".join(await self.store.parts(job.id, f"body:{batch.id}"))
                for piece in await self.store.parts(job.id, f"results:{batch.id}"):
                    batch.results.extend(json.loads(piece))
                if batch.state in WAITING:
                    self.start(job, batch)

    def start(self, job: Job, batch: Batch) -> None:
        """Work on a queued batch in the background."""
        task = asyncio.get_running_loop().create_task(self.process(job, batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        """Stop working: a batch being written finishes first, so none is half-written."""
        async with self.ctx.records.lock:
            for task in list(self.tasks):
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def save(self, job: Job, parts: dict[tuple[str, int], bytes] | None = None) -> None:
        """Store the job's row (and new parts) after a change."""
        await self.store.save(API, job.id, job.row(), parts)

    async def add(self, job: Job) -> None:
        """A new job."""
        self.jobs[job.id] = job
        await self.save(job)

    async def add_batch(self, job: Job, batch: Batch) -> None:
        """Queue a batch and start working on it."""
        batch.fate = fate(self.ctx.config.knobs, self.draw)
        job.batches[batch.id] = batch
        await self.save(job, {(f"request:{batch.id}", 0): batch.request})
        self.start(job, batch)

    async def set_state(self, job: Job, state: str) -> None:
        """Close or abort a job; an aborted job's waiting batches are not processed."""
        job.state = state
        if state == "Aborted":
            for batch in job.batches.values():
                if batch.state in WAITING:
                    batch.state = "Not Processed"
        await self.save(job)

    async def process(self, job: Job, batch: Batch) -> None:
        """Run one batch, taking the time an org would."""
        knobs = self.ctx.config.knobs
        if batch.state == "Queued":
            await asyncio.sleep(queued_seconds(knobs))
        if batch.state != "Queued" and batch.state != "InProgress":
            return  # its job was aborted meanwhile
        if batch.fate == "Failed":
            batch.state, batch.message = "Failed", FAILED_MESSAGE
            await self.save(job)
            return
        if batch.fate == "Aborted":
            batch.message = ABORTED_MESSAGE
            await self.set_state(job, "Aborted")
            return
        batch.state = "InProgress"
        await self.save(job)
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            if job.operation in ("query", "queryAll"):
                await self.run_query(job, batch)
            else:
                await self.run_dml(job, batch)
        except SoqlError as exc:
            batch.state = "Failed"
            batch.message = (
                f"{exc.error_code} : {exc.message}"
                if exc.error_code == "FeatureNotEnabled"
                else f"InvalidBatch : Failed to process query: {exc.error_code}: {exc.message}"
            )
            await self.save(job)
            return
        except (RequestError, ValueError, csv.Error) as exc:
            batch.state, batch.message = "Failed", f"InvalidBatch : {getattr(exc, 'message', exc)}"
            await self.save(job)
            return
        query = job.operation in ("query", "queryAll")
        await asyncio.sleep(wait_after(knobs, batch.processed, loop.time() - began, query=query))

    async def run_query(self, job: Job, batch: Batch) -> None:
        """Run the batch's SOQL; the result is kept as one CSV or JSON body."""
        compiled = compile_soql(
            batch.request.decode("utf-8").strip(),
            self.ctx.records.schema,
            include_deleted=job.operation == "queryAll",
            now=self.ctx.clock(),
            bulk="bulk1-json" if job.content_type == "JSON" else "bulk1-csv",
        )
        rows = await self.ctx.queries.read(compiled.sql, compiled.params)
        if job.content_type == "JSON":
            body = json.dumps([compiled.to_record(r, job.api_version) for r in rows]).encode()
        else:
            out = io.StringIO()
            writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(compiled.columns)
            writer.writerows(compiled.to_csv_row(r) for r in rows)
            body = out.getvalue().encode()
        batch.result_body, batch.result_id = body, new_id("752")
        batch.processed, batch.state = len(rows), "Completed"
        await self.save(job, {(f"body:{batch.id}", 0): body})

    def _record(self, job: Job, batch: Batch, results: list[Any]) -> dict[tuple[str, int], bytes]:
        for result in results:
            error = result.errors[0] if result.errors else None
            batch.results.append(
                {
                    "id": result.id,
                    "success": result.success,
                    "created": result.created,
                    "errors": [f"{error['statusCode']}:{error['message']}"] if error else [],
                }
            )
        batch.processed = len(results)
        batch.failed = sum(1 for r in results if not r.success)
        batch.state = "Completed"
        return {(f"results:{batch.id}", 0): json.dumps(batch.results).encode()}

    async def run_dml(self, job: Job, batch: Batch) -> None:
        """Apply the batch's records; the results are stored with them (inserts: in the
        same transaction)."""
        raw = batch.request
        if job.content_type == "JSON":
            records = [{k: v for k, v in r.items() if k != "attributes"} for r in json.loads(raw)]
            from_csv = False
        else:
            reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
            records = [dict(r) for r in reader]
            from_csv = True
        service, user_id = self.ctx.records, job.created_by
        if job.operation == "insert":

            async def staged(results: list[Any]) -> None:
                parts = self._record(job, batch, results)
                await self.store.stage(API, job.id, job.row(), parts)

            await service.create(user_id, job.sobject, records, from_csv=from_csv, staged=staged)
            return
        if job.operation == "update":
            results = await service.update(user_id, job.sobject, records, from_csv=from_csv)
        elif job.operation == "upsert":
            results = await service.upsert(
                user_id, job.sobject, job.external_id or "Id", records, from_csv=from_csv
            )
        else:
            ids = [str(r.get("Id", "")) for r in records]
            results = await service.delete(user_id, ids, hard=job.operation == "hardDelete")
        await self.save(job, self._record(job, batch, results))
