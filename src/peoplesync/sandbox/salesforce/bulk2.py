"""Bulk API 2.0: ingest jobs (CSV in, results out) and query jobs (CSV pages with locators).

The jobs themselves, how they are worked on and kept, are in ``bulk2_jobs``.
"""

from __future__ import annotations

import base64
import csv
import io
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, ApiError, json_response, read_json
from peoplesync.sandbox.salesforce.bulk2_jobs import DELIMITERS, ENDINGS, Bulk2Jobs, Job
from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.rest import version_of
from peoplesync.sandbox.salesforce.soql import SoqlError
from peoplesync.sandbox.salesforce.soql_compiler import json_value, storage_datetime

OPERATIONS = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
MAX_RECORDS = 50_000


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


def routes(ctx: ApiContext, org_jobs: Bulk2Jobs) -> list[Route]:
    """Routes under /services/data/vNN.0/jobs."""
    jobs = org_jobs.jobs

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
        await org_jobs.add(job)
        return json_response(job.info())

    async def upload(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "ingest")
        if job.state != "Open":
            raise ApiError(409, "INVALIDJOBSTATE", "Job's state does not allow uploading data")
        if job.uploaded:
            raise ApiError(409, "INVALIDJOBSTATE", "Data was already uploaded for this job")
        await org_jobs.upload(job, await request.body())
        return Response(status_code=201)

    async def ingest(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "ingest")
        if request.method == "GET":
            return json_response(job.info())
        if request.method == "DELETE":
            await org_jobs.delete(job)
            return Response(status_code=204)
        wanted = (await read_json(request)).get("state")
        if wanted == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
            await org_jobs.abort(job)
        elif wanted == "UploadComplete" and job.state == "Open":
            await org_jobs.queue(job)
        else:
            raise ApiError(
                400, "INVALIDJOBSTATE", f"Cannot change job state from {job.state} to {wanted}"
            )
        return json_response(job.info())

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
            compiled = org_jobs.compiled(job)
        except SoqlError as exc:
            raise ApiError(
                400,
                "API_ERROR" if exc.error_code == "MALFORMED_QUERY" else exc.error_code,
                exc.message,
            ) from None
        if compiled.is_count:
            raise ApiError(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0")
        job.sobject = compiled.sobject
        await org_jobs.add(job)
        await org_jobs.queue(job)
        return json_response(job.info())

    async def query_job(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "query")
        if request.method == "GET":
            return json_response(job.info())
        if request.method == "DELETE":
            await org_jobs.delete(job)
            return Response(status_code=204)
        if (await read_json(request)).get("state") == "Aborted":
            await org_jobs.abort(job)
            return json_response(job.info())
        raise ApiError(400, "INVALIDJOBSTATE", "Only Aborted can be set on a query job")

    async def results(request: Request) -> Response:
        await ctx.principal(request)
        job = find(request, "query")
        if job.state != "JobComplete":
            raise ApiError(412, "JOB_NOT_COMPLETE", "Job is not complete")
        compiled = org_jobs.compiled(job)
        size = max(1, min(int(request.query_params.get("maxRecords") or MAX_RECORDS), 500_000))
        locator = request.query_params.get("locator")
        offset = int(base64.urlsafe_b64decode(locator.encode() + b"==").decode()) if locator else 0
        queries = ctx.queries
        results_id = job.locator
        if results_id is not None and await queries.seek(results_id, offset) is not None:
            rows = await queries.page(results_id, size)
        else:
            # The results were read to the end before, or their cursor expired: read anew.
            results_id, _, rows = await queries.start_compiled(
                compiled, first_page=size, offset=offset
            )
        job.locator = results_id
        delivered = offset + len(rows)
        lines = [list(compiled.columns)] + [compiled.to_csv_row(r) for r in rows]
        done = delivered >= job.processed or len(rows) < size
        if done:
            await queries.close(results_id)
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
