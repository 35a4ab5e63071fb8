"""Data extension rows: synchronous rowset upserts, the async API, and paged reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peoplesync.sandbox.marketing_cloud.extensions import read_json
from peoplesync.sandbox.marketing_cloud.fields import (
    FieldProblem,
    by_lower_name,
    check_row,
    matches,
    parse_filter,
)
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.marketing_cloud.wire import (
    AGGREGATE,
    INVALID_MESSAGE,
    async_error,
    rest_error,
)

ASYNC_MAX_ITEMS = 32_000  # the async API's hard limit per request
SERVER_ZONE = timezone(timedelta(hours=-6))


def server_now(clock: Callable[[], float]) -> str:
    """Now as Marketing Cloud writes it: UTC-6, no offset."""
    moment = datetime.fromtimestamp(clock(), UTC).astimezone(SERVER_ZONE)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 10000:02d}"


async def _extension(request: Request, store: SandboxStore) -> dict[str, Any] | Response:
    """The extension the path names (``key:K`` or an id), or the hub API's 400."""
    reference = request.path_params["reference"]
    extension = await store.extension(reference)
    return extension or rest_error(400, f"Parameter {reference} is invalid.", 10001)


async def rowset(request: Request, store: SandboxStore) -> Response:
    """``POST /hub/v1/dataevents/{key:K|id}/rowset``: upsert; stop at the first bad row."""
    extension = await _extension(request, store)
    if isinstance(extension, Response):
        return extension
    body = await read_json(request)
    if not isinstance(body, list):
        return rest_error(400, "The request body is not a valid array of rows.", INVALID_MESSAGE)
    accepted: list[tuple[str, dict[str, Any]]] = []
    echoed: list[dict[str, Any]] = []
    problem: FieldProblem | None = None
    for item in body:
        if not isinstance(item, dict):
            problem = FieldProblem("Each row must be an object with keys and values.", 10004)
            break
        keys, values = item.get("keys") or {}, item.get("values") or {}
        if not isinstance(keys, dict) or not isinstance(values, dict):
            problem = FieldProblem("keys and values must be objects.", INVALID_MESSAGE)
            break
        try:
            pk, row = check_row(extension["fields"], {**values, **keys}, insert=True)
        except FieldProblem as refused:
            problem = refused
            break
        accepted.append((pk, row))
        echoed.append({"keys": keys, "values": values})
    async with store.lock:
        await store.upsert_rows(extension["id"], accepted)
    if problem is not None:
        return rest_error(
            400,
            f"Unable to save rows for data extension ID {extension['id']}",
            AGGREGATE,
            [(problem.message, problem.code)],
        )
    return JSONResponse(echoed)


async def one_row(request: Request, store: SandboxStore) -> Response:
    """``PUT /hub/v1/dataevents/{ref}/rows/{pk}:{value}``: upsert one row."""
    extension = await _extension(request, store)
    if isinstance(extension, Response):
        return extension
    body = await read_json(request)
    name, _, value = request.path_params["key"].partition(":")
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, dict):
        return rest_error(400, 'The body must be {"values": {...}}.', INVALID_MESSAGE)
    try:
        pk, row = check_row(extension["fields"], {**values, name: value}, insert=True)
    except FieldProblem as problem:
        return rest_error(400, problem.message, problem.code)
    async with store.lock:
        await store.upsert_rows(extension["id"], [(pk, row)])
    return JSONResponse({"keys": {name: value}, "values": values})


async def async_rows(request: Request, store: SandboxStore, clock: Callable[[], float]) -> Response:
    """``POST`` (insert) or ``PUT`` (upsert) ``/data/v1/async/dataextensions/{ref}/rows``."""
    reference = request.path_params["reference"]
    request_id = str(uuid.uuid4())
    extension = await store.extension(reference)
    if extension is None:
        return async_error(
            400,
            request_id,
            "CustomObjectNotFound",
            "Failed to resolve the Custom Object from the provided ObjectReferenceIdentifier "
            f"[Id: , Key: {reference.removeprefix('key:')}]..",
        )
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return async_error(400, request_id, "InvalidRequest", "items must be a non-empty array.")
    if len(items) > ASYNC_MAX_ITEMS:
        return async_error(
            400, request_id, "MaxItemsExceeded", f"At most {ASYNC_MAX_ITEMS} items per request."
        )
    called = server_now(clock)
    errors: list[dict[str, Any]] = []
    accepted: dict[str, dict[str, Any]] = {}
    by_name = by_lower_name(extension["fields"])
    async with store.lock:
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise FieldProblem("Each item must be an object.", INVALID_MESSAGE)
                pk, row = check_row(extension["fields"], item, insert=True, by_name=by_name)
                if request.method == "POST" and (
                    pk in accepted or await store.row_exists(extension["id"], pk)
                ):
                    raise FieldProblem(
                        "Violation of PRIMARY KEY constraint. Cannot insert duplicate key.", 0
                    )
            except FieldProblem as problem:
                errors.append(
                    {
                        "errorCode": "UnexpectedError" if problem.code == 0 else "ValidationError",
                        "message": f"item {index}: {problem.message}",
                        "status": "Error",
                    }
                )
                continue
            accepted[pk] = row
        await store.upsert_rows(extension["id"], list(accepted.items()))
        status = {
            "callDateTime": called,
            "completionDateTime": server_now(clock),
            "hasErrors": bool(errors),
            "pickupDateTime": called,
            "requestStatus": "Complete",
            "resultStatus": "OK",
            "requestId": request_id,
        }
        await store.save_request(request_id, {"status": status, "errors": errors})
    return JSONResponse({"requestId": request_id, "resultMessages": []}, status_code=202)


async def async_status(request: Request, store: SandboxStore) -> Response:
    request_id = request.path_params["request_id"]
    found = await store.request(request_id)
    if found is None:
        return JSONResponse(
            {
                "requestId": request_id,
                "resultMessages": [
                    {
                        "resultType": "Operational",
                        "resultClass": "Error",
                        "resultCode": "AsyncRequestStatusNotFound",
                        "message": f"No status found for request {request_id}.",
                    }
                ],
            }
        )
    return JSONResponse({"status": found["status"], "requestId": request_id})


async def async_results(request: Request, store: SandboxStore) -> Response:
    request_id = request.path_params["request_id"]
    found = await store.request(request_id)
    items = found["errors"] if found else []
    return JSONResponse({"page": 1, "pageSize": 50, "count": len(items), "items": items})


async def read_rows(request: Request, store: SandboxStore) -> Response:
    """``GET /data/v1/customobjectdata/key/{key}/rowset``: lower-cased names, keys apart."""
    key = request.path_params["key"]
    extension = await store.extension(f"key:{key}")
    if extension is None:
        return rest_error(404, f"Parameter {key} is invalid.", 10001)
    params = request.query_params
    try:
        page = max(1, int(params.get("$page", "1")))
        size = min(2500, max(1, int(params.get("$pageSize", "2500"))))
        clauses = parse_filter(params["$filter"]) if params.get("$filter") else []
    except ValueError:
        return rest_error(400, "Invalid $page, $pageSize or $filter.", 10003)
    keys = {field["name"] for field in extension["fields"] if field["isPrimaryKey"]}
    rows = [row for row in await store.rows(extension["id"]) if matches(row, clauses)]
    items = [
        {
            "keys": {name.lower(): value for name, value in row.items() if name in keys},
            "values": {name.lower(): value for name, value in row.items() if name not in keys},
        }
        for row in rows[(page - 1) * size : page * size]
    ]
    return JSONResponse({"count": len(rows), "page": page, "pageSize": size, "items": items})
