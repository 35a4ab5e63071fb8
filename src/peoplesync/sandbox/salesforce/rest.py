"""REST API handlers: versions, describes, sObject CRUD, upsert, query, updated/deleted, limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, ApiError, json_response, read_json
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.query_cursor import OpenQuery
from peoplesync.sandbox.salesforce.record_results import RequestError, SaveResult
from peoplesync.sandbox.salesforce.soql import SoqlError
from peoplesync.sandbox.salesforce.soql_compiler import json_value, storage_datetime

VERSIONS = [f"{v}.0" for v in range(20, 63)]
DEFAULT_BATCH = 2000


def version_of(request: Request) -> str:
    """``59.0`` from a ``v59.0`` path segment; 404 for anything else."""
    match = re.fullmatch(r"v(\d{2}\.0)", request.path_params["version"])
    if match is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return match.group(1)


def save_error(result: SaveResult, status: int = 400) -> ApiError:
    """A single-record failure as the REST API reports it."""
    first = result.errors[0]
    fields = first.get("fields") or []
    return ApiError(
        status,
        str(first["statusCode"]),
        str(first["message"]),
        [str(f) for f in fields] if isinstance(fields, list) else [],
    )


def routes(ctx: ApiContext) -> list[Route]:
    """The REST routes of the org."""

    async def versions(request: Request) -> Response:
        return json_response(
            [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]
        )

    async def resources(request: Request) -> Response:
        await ctx.principal(request)
        base = f"/services/data/v{version_of(request)}"
        names = [
            "sobjects",
            "query",
            "queryAll",
            "limits",
            "composite",
            "jobs",
            "search",
            "tooling",
        ]
        return json_response({name: f"{base}/{name}" for name in names})

    async def global_describe(request: Request) -> Response:
        await ctx.principal(request)
        return json_response(ctx.records.schema.global_json(version_of(request)))

    async def sobject_info(request: Request) -> Response:
        await ctx.principal(request)
        name = ctx.records.sobject(request.path_params["sobject"])
        entries = ctx.records.schema.global_json(version_of(request))["sobjects"]
        entry = next(e for e in entries if e["name"] == name)
        return json_response({"objectDescribe": entry, "recentItems": []})

    async def describe(request: Request) -> Response:
        await ctx.principal(request)
        name = ctx.records.sobject(request.path_params["sobject"])
        return json_response(
            ctx.records.schema.describe_json(name, version_of(request), ctx.config.instance_url)
        )

    async def create(request: Request) -> Response:
        principal = await ctx.principal(request)
        version_of(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        (result,) = await ctx.records.create(
            principal.user_id, request.path_params["sobject"], [body]
        )
        if not result.success:
            raise save_error(result)
        return json_response({"id": result.id, "success": True, "errors": []}, 201)

    async def record(request: Request) -> Response:
        principal = await ctx.principal(request)
        version = version_of(request)
        sobject = ctx.records.sobject(request.path_params["sobject"])
        key = request.path_params["key"]
        if key in ("updated", "deleted") and request.method == "GET":
            return await replication(request, sobject, key)
        if not is_valid_id(key) or ctx.records.schema.prefix_owner(to18(key)) != sobject:
            if request.method == "POST" and key == "Id":
                return await create(request)
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {key}",
            )
        record_id = to18(key)
        if request.method == "GET":
            rows = await ctx.records.fetch(sobject, [record_id])
            row = rows.get(record_id)
            if row is None or row["IsDeleted"]:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            wanted = request.query_params.get("fields")
            fields = [f.strip().lower() for f in wanted.split(",")] if wanted else None
            return json_response(ctx.records.to_json(sobject, row, version, fields))
        if request.method == "PATCH":
            body = await read_json(request)
            (result,) = await ctx.records.update(
                principal.user_id, sobject, [{**body, "Id": record_id}]
            )
            if not result.success:
                code = str(result.errors[0]["statusCode"])
                raise save_error(result, 404 if code in ("NOT_FOUND", "ENTITY_IS_DELETED") else 400)
            return Response(status_code=204)
        (result,) = await ctx.records.delete(principal.user_id, [record_id])
        if not result.success:
            raise save_error(result, 404)
        return Response(status_code=204)

    async def by_external_id(request: Request) -> Response:
        principal = await ctx.principal(request)
        version = version_of(request)
        sobject = ctx.records.sobject(request.path_params["sobject"])
        field_name = request.path_params["field"]
        value = unquote(request.path_params["value"])
        meta = ctx.records.schema.field(sobject, field_name)
        if meta is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if request.method == "GET":
            async with ctx.records.storage.conn.execute(
                f'SELECT "Id" FROM "{sobject}" WHERE "{meta.name}" = ? COLLATE NOCASE AND "IsDeleted" = 0',
                (value,),
            ) as cursor:
                ids = [row[0] async for row in cursor]
            if not ids:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            if len(ids) > 1:
                return json_response(
                    [f"/services/data/v{version}/sobjects/{sobject}/{i}" for i in ids], 300
                )
            rows = await ctx.records.fetch(sobject, ids)
            return json_response(ctx.records.to_json(sobject, rows[ids[0]], version))
        body = await read_json(request)
        if meta.name in body or field_name in body:
            raise ApiError(
                400, "INVALID_FIELD", f"The field {meta.name} must not be in the body of an upsert"
            )
        try:
            (result,) = await ctx.records.upsert(
                principal.user_id, sobject, meta.name, [{**body, meta.name: value}]
            )
        except RequestError as exc:
            raise ApiError(exc.status, exc.error_code, exc.message) from None
        if not result.success:
            if result.errors[0]["statusCode"] == "DUPLICATE_EXTERNAL_ID":
                return json_response([], 300)
            raise save_error(result)
        answer: dict[str, object] = {
            "id": result.id,
            "success": True,
            "errors": [],
            "created": result.created,
        }
        return json_response(answer, 201 if result.created else 200)

    async def replication(request: Request, sobject: str, kind: str) -> Response:
        start = _parse_when(request.query_params.get("start"))
        end = _parse_when(request.query_params.get("end"))
        if start is None or end is None or end < start:
            raise ApiError(
                400,
                "MALFORMED_QUERY",
                "start and end are required dateTime values, start before end",
            )
        if start < ctx.clock() - timedelta(days=30):
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "startDate before org replication enabled date"
            )
        end = min(end, ctx.clock()).replace(second=0, microsecond=0)
        low, high = storage_datetime(start), storage_datetime(end)
        conn = ctx.records.storage.conn
        if kind == "updated":
            async with conn.execute(
                f'SELECT "Id" FROM "{sobject}" WHERE "SystemModstamp" >= ? AND "SystemModstamp" < ? AND "IsDeleted" = 0',
                (low, high),
            ) as cursor:
                ids = [row[0] async for row in cursor]
            return json_response({"ids": ids, "latestDateCovered": json_value("datetime", high)})
        async with conn.execute(
            "SELECT id, deleted_at FROM meta_deleted WHERE sobject = ? AND deleted_at >= ? AND deleted_at < ?",
            (sobject, low, high),
        ) as cursor:
            deleted = [
                {"id": r[0], "deletedDate": json_value("datetime", r[1])} async for r in cursor
            ]
        earliest = storage_datetime(ctx.clock() - timedelta(days=15))
        return json_response(
            {
                "deletedRecords": deleted,
                "earliestDateAvailable": json_value("datetime", earliest),
                "latestDateCovered": json_value("datetime", high),
            }
        )

    def batch_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize=(\d+)", options)
        return max(200, min(DEFAULT_BATCH, int(match.group(1)))) if match else DEFAULT_BATCH

    async def query(request: Request) -> Response:
        await ctx.principal(request)
        version = version_of(request)
        include_deleted = (
            request.url.path.rstrip("/").split("/")[-1] == "queryAll"
            or "/queryAll" in request.url.path
        )
        text = request.query_params.get("q")
        if not text:
            raise ApiError(
                400, "MALFORMED_QUERY", "A query string must be provided in the q parameter"
            )
        size = batch_size(request)
        try:
            locator, opened, rows = await ctx.queries.start(
                text, include_deleted=include_deleted, first_page=size
            )
        except SoqlError as exc:
            raise ApiError(400, exc.error_code, exc.message) from None
        return answer(version, locator, opened, rows, include_deleted)

    async def query_more(request: Request) -> Response:
        await ctx.principal(request)
        version = version_of(request)
        locator, _, offset = request.path_params["locator"].partition("-")
        opened = await ctx.queries.seek(locator, int(offset) if offset.isdigit() else None)
        if opened is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows = await ctx.queries.page(locator, batch_size(request))
        return answer(version, locator, opened, rows, "/queryAll" in request.url.path)

    def answer(
        version: str, locator: str, opened: OpenQuery, rows: list[Any], include_deleted: bool
    ) -> Response:
        compiled = opened.compiled
        body: dict[str, Any] = {"totalSize": opened.total, "done": locator not in ctx.queries.open}
        if not body["done"]:
            kind = "queryAll" if include_deleted else "query"
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/{kind}/{locator}-{opened.delivered}"
            )
        body["records"] = [compiled.to_record(row, version) for row in rows]
        return json_response(body)

    async def limits(request: Request) -> Response:
        await ctx.principal(request)
        usage = ctx.usage
        remaining = max(usage.limit - usage.used, 0)
        body = {
            "DailyApiRequests": {"Max": usage.limit, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkApiRequests": {"Max": 10000, "Remaining": 10000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyStreamingApiEvents": {"Max": 1000000, "Remaining": 1000000},
            "DailyDurableStreamingApiEvents": {"Max": 1000000, "Remaining": 1000000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "HourlyAsyncReportRuns": {"Max": 1200, "Remaining": 1200},
        }
        return json_response(body)

    prefix = "/services/data/{version}"
    return [
        Route("/services/data", versions),
        Route("/services/data/", versions),
        Route(prefix, resources),
        Route(prefix + "/", resources),
        Route(prefix + "/sobjects", global_describe),
        Route(prefix + "/sobjects/", global_describe),
        Route(prefix + "/sobjects/{sobject}", sobject_info, methods=["GET"]),
        Route(prefix + "/sobjects/{sobject}", create, methods=["POST"]),
        Route(prefix + "/sobjects/{sobject}/", create, methods=["POST"]),
        Route(prefix + "/sobjects/{sobject}/describe", describe),
        Route(prefix + "/sobjects/{sobject}/describe/", describe),
        Route(
            prefix + "/sobjects/{sobject}/{key}", record, methods=["GET", "PATCH", "DELETE", "POST"]
        ),
        Route(prefix + "/sobjects/{sobject}/{key}/", record, methods=["GET"]),
        Route(
            prefix + "/sobjects/{sobject}/{field}/{value:path}",
            by_external_id,
            methods=["GET", "PATCH"],
        ),
        Route(prefix + "/query", query),
        Route(prefix + "/query/", query),
        Route(prefix + "/queryAll", query),
        Route(prefix + "/queryAll/", query),
        Route(prefix + "/query/{locator}", query_more),
        Route(prefix + "/queryAll/{locator}", query_more),
        Route(prefix + "/limits", limits),
        Route(prefix + "/limits/", limits),
    ]


def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    text = unquote(value).replace(" ", "+").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
