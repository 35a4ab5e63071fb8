"""Bulk API 1.0 (``/services/async/{version}``): XML or JSON jobs, CSV or JSON batches.

Batches are processed as they arrive, so a client's first status poll already finds them
Completed.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.auth import SessionError
from peoplesync.sandbox.salesforce.ids import checksum
from peoplesync.sandbox.salesforce.soql import SoqlError
from peoplesync.sandbox.salesforce.soql_compiler import compile_soql, json_value, storage_datetime

NS = "http://www.force.com/2009/06/asyncapi/dataload"
DML = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})


class BulkError(Exception):
    """An error answered in the Bulk 1.0 error shape."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _new_id(prefix: str) -> str:
    raw = prefix + "8d" + secrets.token_hex(5).upper()
    return raw + checksum(raw)


@dataclass
class Batch:
    """One batch and its results."""

    id: str
    job_id: str
    created: str
    request: bytes
    state: str = "Completed"
    message: str = ""
    processed: int = 0
    failed: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    result_id: str = ""
    result_body: bytes = b""

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

    def info(self) -> dict[str, Any]:
        """The jobInfo fields, in Salesforce's order."""
        done = [b for b in self.batches.values() if b.state == "Completed"]
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
            numberBatchesQueued=0,
            numberBatchesInProgress=0,
            numberBatchesCompleted=len(done),
            numberBatchesFailed=len(self.batches) - len(done),
            numberBatchesTotal=len(self.batches),
            numberRecordsProcessed=sum(b.processed for b in self.batches.values()),
            numberRetries=0,
            apiVersion=float(self.api_version),
            numberRecordsFailed=sum(b.failed for b in self.batches.values()),
            totalProcessingTime=0,
            apiActiveProcessingTime=0,
            apexProcessingTime=0,
        )
        return body


def _xml(root: str, fields: dict[str, Any]) -> str:
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"<{key}>{escape(text)}</{key}>")
    return f"<{root}>{''.join(parts)}</{root}>"


def _respond(body: Any, as_json: bool, root: str = "", status: int = 200) -> Response:
    if as_json:
        return Response(json.dumps(body), status_code=status, media_type="application/json")
    inner = body if isinstance(body, str) else _xml(root, body)
    if not inner.startswith("<" + root) or "xmlns" not in inner[:200]:
        inner = inner.replace(f"<{root}>", f'<{root} xmlns="{NS}">', 1)
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?>{inner}',
        status_code=status,
        media_type="application/xml",
    )


def _parse_body(raw: bytes, content_type: str) -> dict[str, str]:
    if "json" in content_type:
        return {k: str(v) for k, v in json.loads(raw or b"{}").items()}
    root = ElementTree.fromstring(raw)  # noqa: S314 - expat limits entity expansion
    return {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in root}


def routes(ctx: ApiContext) -> list[Route]:
    """Routes under /services/async/{version}."""
    jobs: dict[str, Job] = {}

    async def principal(request: Request) -> str:
        try:
            return (await ctx.auth.authenticate(request)).user_id
        except SessionError:
            raise BulkError("InvalidSessionId", "Invalid session id") from None

    def job_of(request: Request) -> Job:
        job = jobs.get(request.path_params["job"])
        if job is None:
            raise BulkError("InvalidJob", f"Unable to find job id: {request.path_params['job']}")
        return job

    async def create_job(request: Request) -> Response:
        user_id = await principal(request)
        as_json = "json" in request.headers.get("content-type", "")
        fields = _parse_body(await request.body(), request.headers.get("content-type", ""))
        operation = fields.get("operation", "")
        if operation not in DML | {"query", "queryAll"}:
            raise BulkError("InvalidJob", f"Invalid operation: {operation}")
        sobject = ctx.records.schema.canonical_sobject(fields.get("object", ""))
        if sobject is None:
            raise BulkError("InvalidJob", f"Unable to find object: {fields.get('object')}")
        now = str(json_value("datetime", storage_datetime(ctx.clock())))
        job = Job(
            _new_id("750"),
            operation,
            sobject,
            fields.get("contentType", "CSV") or "CSV",
            user_id,
            now,
            request.path_params["version"],
            fields.get("externalIdFieldName") or None,
            json_api=as_json,
        )
        jobs[job.id] = job
        return _respond(job.info(), as_json or job.content_type == "JSON", "jobInfo", 201)

    async def job_endpoint(request: Request) -> Response:
        await principal(request)
        job = job_of(request)
        if request.method == "POST":
            wanted = _parse_body(await request.body(), request.headers.get("content-type", "")).get(
                "state"
            )
            if wanted in ("Closed", "Aborted"):
                job.state = wanted
        return _respond(job.info(), job.json_api or job.content_type == "JSON", "jobInfo")

    async def add_batch(request: Request) -> Response:
        user_id = await principal(request)
        job = job_of(request)
        if job.state != "Open":
            raise BulkError("InvalidJobState", f"Job {job.id} is not open")
        raw = await request.body()
        now = str(json_value("datetime", storage_datetime(ctx.clock())))
        batch = Batch(_new_id("751"), job.id, now, raw)
        job.batches[batch.id] = batch
        try:
            if job.operation in ("query", "queryAll"):
                await run_query(job, batch, raw.decode("utf-8").strip())
            else:
                await run_dml(job, batch, user_id, raw)
        except SoqlError as exc:
            batch.state = "Failed"
            batch.message = (
                f"{exc.error_code} : {exc.message}"
                if exc.error_code == "FeatureNotEnabled"
                else f"InvalidBatch : Failed to process query: {exc.error_code}: {exc.message}"
            )
        except (ValueError, csv.Error) as exc:
            batch.state, batch.message = "Failed", f"InvalidBatch : {exc}"
        return _respond(batch.info(), job.json_api or job.content_type == "JSON", "batchInfo", 201)

    async def run_query(job: Job, batch: Batch, soql: str) -> None:
        compiled = compile_soql(
            soql,
            ctx.records.schema,
            include_deleted=job.operation == "queryAll",
            now=ctx.clock(),
            bulk="bulk1-json" if job.content_type == "JSON" else "bulk1-csv",
        )
        rows = await ctx.queries.read(compiled.sql, compiled.params)
        batch.processed = len(rows)
        batch.result_id = _new_id("752")
        if job.content_type == "JSON":
            batch.result_body = json.dumps(
                [compiled.to_record(r, job.api_version) for r in rows]
            ).encode()
        else:
            out = io.StringIO()
            writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(compiled.columns)
            writer.writerows(compiled.to_csv_row(r) for r in rows)
            batch.result_body = out.getvalue().encode()

    async def run_dml(job: Job, batch: Batch, user_id: str, raw: bytes) -> None:
        if job.content_type == "JSON":
            records = [{k: v for k, v in r.items() if k != "attributes"} for r in json.loads(raw)]
            from_csv = False
        else:
            reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
            records = [dict(r) for r in reader]
            from_csv = True
        service = ctx.records
        if job.operation == "insert":
            results = await service.create(user_id, job.sobject, records, from_csv=from_csv)
        elif job.operation == "update":
            results = await service.update(user_id, job.sobject, records, from_csv=from_csv)
        elif job.operation == "upsert":
            results = await service.upsert(
                user_id, job.sobject, job.external_id or "Id", records, from_csv=from_csv
            )
        else:
            results = await service.delete(
                user_id, [str(r.get("Id", "")) for r in records], hard=job.operation == "hardDelete"
            )
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

    async def batches(request: Request) -> Response:
        await principal(request)
        job = job_of(request)
        infos = [b.info() for b in job.batches.values()]
        if job.json_api or job.content_type == "JSON":
            return _respond({"batchInfo": infos}, True)
        inner = "".join(_xml("batchInfo", i) for i in infos)
        return _respond(f"<batchInfoList>{inner}</batchInfoList>", False, "batchInfoList")

    def batch_of(request: Request) -> tuple[Job, Batch]:
        job = job_of(request)
        batch = job.batches.get(request.path_params["batch"])
        if batch is None:
            raise BulkError(
                "InvalidBatch", f"Unable to find batch id: {request.path_params['batch']}"
            )
        return job, batch

    async def batch_info(request: Request) -> Response:
        await principal(request)
        job, batch = batch_of(request)
        return _respond(batch.info(), job.json_api or job.content_type == "JSON", "batchInfo")

    async def batch_result(request: Request) -> Response:
        await principal(request)
        job, batch = batch_of(request)
        if job.operation in ("query", "queryAll"):
            if job.content_type == "JSON":
                return Response(json.dumps([batch.result_id]), media_type="application/json")
            return _respond(
                f"<result-list><result>{batch.result_id}</result></result-list>",
                False,
                "result-list",
            )
        if job.content_type == "JSON":
            return Response(json.dumps(batch.results), media_type="application/json")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["Id", "Success", "Created", "Error"])
        for r in batch.results:
            writer.writerow(
                [
                    r["id"] or "",
                    str(r["success"]).lower(),
                    str(r["created"]).lower(),
                    "; ".join(r["errors"]),
                ]
            )
        return Response(out.getvalue(), headers={"Content-Type": "text/csv"})

    async def query_result(request: Request) -> Response:
        await principal(request)
        job, batch = batch_of(request)
        if request.path_params["result"] != batch.result_id:
            raise BulkError("InvalidBatch", "Unable to find the result")
        media = "application/json" if job.content_type == "JSON" else "text/csv"
        return Response(batch.result_body, headers={"Content-Type": media})

    async def batch_request(request: Request) -> Response:
        await principal(request)
        _, batch = batch_of(request)
        return Response(batch.request, media_type="text/plain")

    def guarded(handler: Any) -> Any:
        async def call(request: Request) -> Response:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except BulkError as exc:
                if "json" in request.headers.get("content-type", ""):
                    return Response(
                        json.dumps({"exceptionCode": exc.code, "exceptionMessage": exc.message}),
                        status_code=exc.status,
                        media_type="application/json",
                    )
                body = f"<error><exceptionCode>{exc.code}</exceptionCode><exceptionMessage>{escape(exc.message)}</exceptionMessage></error>"
                return _respond(body, False, "error", exc.status)
            except (ValueError, ElementTree.ParseError) as exc:
                return _respond(
                    f"<error><exceptionCode>InvalidRequest</exceptionCode><exceptionMessage>{escape(str(exc))}</exceptionMessage></error>",
                    False,
                    "error",
                    400,
                )

        return call

    base = "/services/async/{version}"
    return [
        Route(base + "/job", guarded(create_job), methods=["POST"]),
        Route(base + "/job/{job}", guarded(job_endpoint), methods=["GET", "POST"]),
        Route(base + "/job/{job}/batch", guarded(add_batch), methods=["POST"]),
        Route(base + "/job/{job}/batch", guarded(batches), methods=["GET"]),
        Route(base + "/job/{job}/batch/{batch}", guarded(batch_info), methods=["GET"]),
        Route(base + "/job/{job}/batch/{batch}/result", guarded(batch_result), methods=["GET"]),
        Route(
            base + "/job/{job}/batch/{batch}/result/{result}",
            guarded(query_result),
            methods=["GET"],
        ),
        Route(base + "/job/{job}/batch/{batch}/request", guarded(batch_request), methods=["GET"]),
    ]
