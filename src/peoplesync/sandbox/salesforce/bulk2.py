"""Bulk API 2.0: ingest jobs (CSV in, results out) and query jobs (CSV pages with locators)."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, ApiError, json_response, read_json
from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.soql import SoqlError
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
OPERATIONS = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
CHUNK = 10_000
QUEUED_SECONDS = 0.005  # a closed job waits this long in the queue: the close is answered first
MAX_RECORDS = 50_000


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
    data: bytes = b""
    processed: int = 0
    failed: int = 0
    error: str | None = None
    columns: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    compiled: CompiledQuery | None = None
    locator: str | None = None  # the open cursor over the results, taken when the job ran

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


def _csv(rows: list[list[str]], job: Job) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=DELIMITERS[job.delimiter],
        lineterminator=ENDINGS[job.line_ending],
        quoting=csv.QUOTE_MINIMAL,
    )
    writer.writerows(rows)
    return out.getvalue()


def routes(ctx: ApiContext) -> list[Route]:
    """Routes under /services/data/vNN.0/jobs."""
    jobs: dict[str, Job] = {}

    def new_job(kind: str, principal_id: str, version: str, body: dict[str, Any]) -> Job:
        raw = "7508d" + secrets.token_hex(5).upper()  # Bulk jobs use the 750 key prefix
        job_id = raw + checksum(raw)
        now = json_value("datetime", storage_datetime(ctx.clock()))
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS or ending not in ENDINGS:
            raise ApiError(400, "INVALIDJOB", "InvalidJob : invalid columnDelimiter or lineEnding")
        return Job(
            job_id,
            kind,
            str(body.get("operation", "")),
            str(body.get("object", "")),
            principal_id,
            str(now),
            version,
            delimiter,
            ending,
        )

    def version(request: Request) -> str:
        from peoplesync.sandbox.salesforce.rest import version_of

        return version_of(request)

    def find(request: Request, kind: str) -> Job:
        job = jobs.get(request.path_params["job"])
        if job is None or job.kind != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    async def create_ingest(request: Request) -> Response:
        principal = await ctx.principal(request)
        body = await read_json(request)
        job = new_job("ingest", principal.user_id, version(request), body)
        if job.operation not in OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {job.operation}")
        job.sobject = ctx.records.sobject(job.sobject)
        if job.operation == "upsert":
            job.external_id = str(body.get("externalIdFieldName") or "")
            if ctx.records.schema.field(job.sobject, job.external_id) is None:
                raise ApiError(
                    400,
                    "INVALIDJOB",
                    f"InvalidJob : Field name provided, {job.external_id} does not match an External ID, Salesforce Id, or indexed field for {job.sobject}",
                )
        jobs[job.id] = job
        return json_response(job.info())

    async def upload(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "ingest")
        if job.state != "Open":
            raise ApiError(409, "INVALIDJOBSTATE", "Job's state does not allow uploading data")
        if job.data:
            raise ApiError(409, "INVALIDJOBSTATE", "Data was already uploaded for this job")
        job.data = await request.body()
        return Response(status_code=201)

    async def ingest(request: Request) -> Response:
        principal = await ctx.principal(request)
        job = find(request, "ingest")
        if request.method == "GET":
            return json_response(job.info())
        if request.method == "DELETE":
            jobs.pop(job.id, None)
            return Response(status_code=204)
        wanted = (await read_json(request)).get("state")
        if wanted == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
            job.state = "Aborted"
        elif wanted == "UploadComplete" and job.state == "Open":
            job.state = "UploadComplete"
            asyncio.get_running_loop().create_task(process(job, principal.user_id))
        else:
            raise ApiError(
                400, "INVALIDJOBSTATE", f"Cannot change job state from {job.state} to {wanted}"
            )
        return json_response(job.info())

    async def process(job: Job, user_id: str) -> None:
        await asyncio.sleep(QUEUED_SECONDS)
        if job.state != "Aborted":  # an abort while queued leaves every row unprocessed
            job.state = "InProgress"
        try:
            text = job.data.decode("utf-8-sig")
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
            header = next(reader, None)
            if not header:
                raise ValueError("the upload has no header row")
            job.columns = header
            rows = [row for row in reader if row]
            for start in range(0, len(rows), CHUNK):
                if job.state == "Aborted":
                    job.unprocessed += rows[start:]
                    return
                chunk = rows[start : start + CHUNK]
                records = [dict(zip(header, row, strict=False)) for row in chunk]
                results = await apply(job, user_id, records)
                for row, result in zip(chunk, results, strict=True):
                    if result.success:
                        job.successes.append(
                            [result.id or "", "true" if result.created else "false", *row]
                        )
                    else:
                        error = result.errors[0]
                        fields = ",".join(str(f) for f in error.get("fields", []))
                        job.failures.append(
                            [
                                str(row[header.index("Id")]) if "Id" in header else "",
                                f"{error['statusCode']}:{error['message']}:{fields} --",
                                *row,
                            ]
                        )
                        job.failed += 1
                    job.processed += 1
                await asyncio.sleep(0)
            if job.state != "Aborted":  # aborted while queued, with no rows to leave out
                job.state = "JobComplete"
        except (ValueError, csv.Error, ApiError) as exc:
            job.state, job.error = "Failed", f"InvalidBatch : {exc}"
        finally:
            job.modstamp = str(json_value("datetime", storage_datetime(ctx.clock())))

    async def apply(job: Job, user_id: str, records: list[dict[str, str]]) -> list[Any]:
        service = ctx.records
        if job.operation == "insert":
            return await service.create(user_id, job.sobject, records, from_csv=True)
        if job.operation in ("update", "upsert"):
            # An empty field leaves the value as it is; #N/A sets it to null.
            records = [{k: v for k, v in r.items() if v != ""} for r in records]
        if job.operation == "update":
            return await service.update(user_id, job.sobject, records, from_csv=True)
        if job.operation == "upsert":
            return await service.upsert(
                user_id, job.sobject, job.external_id or "Id", records, from_csv=True
            )
        ids = [r.get("Id", "") for r in records]
        return await service.delete(user_id, ids, hard=job.operation == "hardDelete")

    async def ingest_results(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "ingest")
        kind = request.path_params["kind"].lower()
        if kind == "successfulresults":
            rows = [["sf__Id", "sf__Created", *job.columns], *job.successes]
        elif kind == "failedresults":
            rows = [["sf__Id", "sf__Error", *job.columns], *job.failures]
        elif kind == "unprocessedrecords":
            rows = [job.columns, *job.unprocessed]
        else:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return Response(_csv(rows, job), media_type="text/csv")

    async def list_jobs(request: Request) -> Response:
        await ctx.principal(request)
        kind = "ingest" if request.url.path.rstrip("/").endswith("ingest") else "query"
        return json_response(
            {
                "done": True,
                "records": [j.info() for j in jobs.values() if j.kind == kind],
                "nextRecordsUrl": None,
            }
        )

    async def create_query(request: Request) -> Response:
        principal = await ctx.principal(request)
        body = await read_json(request)
        job = new_job("query", principal.user_id, version(request), body)
        if job.operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {job.operation}")
        job.query = str(body.get("query") or "")
        try:
            job.compiled = compile_soql(
                job.query,
                ctx.records.schema,
                include_deleted=job.operation == "queryAll",
                now=ctx.clock(),
                bulk="bulk2",
            )
        except SoqlError as exc:
            raise ApiError(
                400,
                "API_ERROR" if exc.error_code == "MALFORMED_QUERY" else exc.error_code,
                exc.message,
            ) from None
        if job.compiled.is_count:
            raise ApiError(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0")
        job.sobject = job.compiled.sobject
        job.state = "UploadComplete"
        jobs[job.id] = job
        asyncio.get_running_loop().create_task(run_query(job))
        return json_response(job.info())

    async def run_query(job: Job) -> None:
        assert job.compiled is not None
        job.state = "InProgress"
        locator, opened, _ = await ctx.queries.start_compiled(job.compiled, first_page=0)
        job.locator = locator if locator in ctx.queries.open else None
        job.processed = opened.total
        job.state = "JobComplete"
        job.modstamp = str(json_value("datetime", storage_datetime(ctx.clock())))

    async def query_job(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "query")
        if request.method == "GET":
            return json_response(job.info())
        if request.method == "DELETE":
            jobs.pop(job.id, None)
            if job.locator is not None:
                await ctx.queries.close(job.locator)
            return Response(status_code=204)
        if (await read_json(request)).get("state") == "Aborted":
            job.state = "Aborted"
            if job.locator is not None:
                await ctx.queries.close(job.locator)
            return json_response(job.info())
        raise ApiError(400, "INVALIDJOBSTATE", "Only Aborted can be set on a query job")

    async def results(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "query")
        if job.state != "JobComplete":
            raise ApiError(412, "JOB_NOT_COMPLETE", "Job is not complete")
        assert job.compiled is not None
        size = max(1, min(int(request.query_params.get("maxRecords") or MAX_RECORDS), 500_000))
        locator = request.query_params.get("locator")
        offset = int(base64.urlsafe_b64decode(locator.encode() + b"==").decode()) if locator else 0
        results_id = job.locator
        if results_id is not None and await ctx.queries.seek(results_id, offset) is not None:
            rows = await ctx.queries.page(results_id, size)
        else:
            # The results were read to the end before, or their cursor expired: read anew.
            results_id, _, rows = await ctx.queries.start_compiled(
                job.compiled, first_page=size, offset=offset
            )
        job.locator = results_id
        delivered = offset + len(rows)
        lines = [list(job.compiled.columns)] + [job.compiled.to_csv_row(r) for r in rows]
        done = delivered >= job.processed or len(rows) < size
        if done:
            await ctx.queries.close(results_id)
            job.locator = None
        next_locator = (
            "null"
            if done
            else base64.urlsafe_b64encode(str(delivered).encode()).decode().rstrip("=")
        )
        headers = {"Sforce-Locator": next_locator, "Sforce-NumberOfRecords": str(len(rows))}
        return Response(_csv(lines, job), media_type="text/csv", headers=headers)

    base = "/services/data/{version}/jobs"
    return [
        Route(base + "/ingest", create_ingest, methods=["POST"]),
        Route(base + "/ingest/", create_ingest, methods=["POST"]),
        Route(base + "/ingest", list_jobs, methods=["GET"]),
        Route(base + "/ingest/{job}", ingest, methods=["GET", "PATCH", "DELETE"]),
        Route(base + "/ingest/{job}/batches", upload, methods=["PUT"]),
        Route(base + "/ingest/{job}/batches/", upload, methods=["PUT"]),
        Route(base + "/ingest/{job}/{kind}", ingest_results, methods=["GET"]),
        Route(base + "/ingest/{job}/{kind}/", ingest_results, methods=["GET"]),
        Route(base + "/query", create_query, methods=["POST"]),
        Route(base + "/query/", create_query, methods=["POST"]),
        Route(base + "/query", list_jobs, methods=["GET"]),
        Route(base + "/query/{job}", query_job, methods=["GET", "PATCH", "DELETE"]),
        Route(base + "/query/{job}/results", results, methods=["GET"]),
        Route(base + "/query/{job}/results/", results, methods=["GET"]),
    ]
