"""Bulk API 1.0 (``/services/async/{version}``): XML or JSON jobs, CSV or JSON batches.

A job created with a JSON body answers its job calls in JSON; batch replies follow the job's
content type (JSON for JSON jobs, XML for CSV and XML jobs), as Salesforce answers. Jobs and
their batches are in ``bulk1_jobs``.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ElementTree
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.auth import SessionError
from peoplesync.sandbox.salesforce.bulk1_jobs import Batch, Bulk1Jobs, Job, new_id
from peoplesync.sandbox.salesforce.soql_compiler import json_value, storage_datetime

NS = "http://www.force.com/2009/06/asyncapi/dataload"
DML = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})


class BulkError(Exception):
    """An error answered in the Bulk 1.0 error shape."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


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


def routes(ctx: ApiContext, org_jobs: Bulk1Jobs) -> list[Route]:
    """Routes under /services/async/{version}."""
    jobs = org_jobs.jobs

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
        content_type = fields.get("contentType", "CSV") or "CSV"
        if content_type not in ("CSV", "XML", "JSON"):
            raise BulkError(
                "InvalidJob", f"Invalid content type: {content_type} (CSV, XML or JSON)"
            )
        now = str(json_value("datetime", storage_datetime(ctx.clock())))
        job = Job(
            new_id("750"),
            operation,
            sobject,
            content_type,
            user_id,
            now,
            request.path_params["version"],
            fields.get("externalIdFieldName") or None,
            json_api=as_json,
        )
        await org_jobs.add(job)
        return _respond(job.info(), as_json or job.json_batches, "jobInfo", 201)

    async def job_endpoint(request: Request) -> Response:
        await principal(request)
        job = job_of(request)
        if request.method == "POST":
            wanted = _parse_body(await request.body(), request.headers.get("content-type", "")).get(
                "state"
            )
            if wanted in ("Closed", "Aborted"):
                await org_jobs.set_state(job, wanted)
        return _respond(job.info(), job.json_api or job.json_batches, "jobInfo")

    async def add_batch(request: Request) -> Response:
        await principal(request)
        job = job_of(request)
        if job.state != "Open":
            raise BulkError("InvalidJobState", f"Job {job.id} is not open")
        now = str(json_value("datetime", storage_datetime(ctx.clock())))
        batch = Batch(new_id("751"), job.id, now, request=await request.body())
        await org_jobs.add_batch(job, batch)
        return _respond(batch.info(), job.json_batches, "batchInfo", 201)

    async def batches(request: Request) -> Response:
        await principal(request)
        job = job_of(request)
        infos = [b.info() for b in job.batches.values()]
        if job.json_batches:
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
        return _respond(batch.info(), job.json_batches, "batchInfo")

    async def batch_result(request: Request) -> Response:
        await principal(request)
        job, batch = batch_of(request)
        if batch.state != "Completed":
            raise BulkError("InvalidBatch", f"Batch not completed: {batch.id} is {batch.state}")
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
