"""sObject Collections, Composite and Composite Batch."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, ApiError, json_response, read_json
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.rest import version_of

MAX_RECORDS = 200
MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")


def _check_size(count: int) -> None:
    if count > MAX_RECORDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )


def _group_by_type(records: list[dict[str, Any]]) -> str:
    types = {str((r.get("attributes") or {}).get("type", "")) for r in records}
    if len(types) != 1 or "" in types:
        raise ApiError(
            400,
            "INVALID_FIELD",
            "every record needs attributes.type, all of one sObject type in this sandbox",
        )
    return types.pop()


def routes(ctx: ApiContext) -> list[Route]:
    """Routes under /composite."""

    async def collection(request: Request) -> Response:
        principal = await ctx.principal(request)
        version_of(request)
        if request.method == "DELETE":
            ids = [i for i in request.query_params.get("ids", "").split(",") if i]
            _check_size(len(ids))
            all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"
            results = await ctx.records.delete(principal.user_id, ids, all_or_none=all_or_none)
            return json_response([r.as_json() for r in results])
        if request.method == "GET":
            return await retrieve(request)
        body = await read_json(request)
        records = body.get("records") or []
        _check_size(len(records))
        if not records:
            return json_response([])
        all_or_none = bool(body.get("allOrNone"))
        sobject = _group_by_type(records)
        clean = [{k: v for k, v in r.items() if k != "attributes"} for r in records]
        if request.method == "POST":
            results = await ctx.records.create(
                principal.user_id, sobject, clean, all_or_none=all_or_none
            )
        else:
            for record in clean:
                if "id" in record and "Id" not in record:
                    record["Id"] = record.pop("id")
            results = await ctx.records.update(
                principal.user_id, sobject, clean, all_or_none=all_or_none
            )
        return json_response([r.as_json() for r in results])

    async def retrieve(request: Request) -> Response:
        version = version_of(request)
        sobject = ctx.records.sobject(request.path_params.get("sobject", ""))
        ids = [to18(i) for i in request.query_params.get("ids", "").split(",") if is_valid_id(i)]
        fields = [
            f.strip().lower()
            for f in request.query_params.get("fields", "").split(",")
            if f.strip()
        ]
        rows = await ctx.records.fetch(sobject, ids, include_deleted=False)
        return json_response(
            [
                ctx.records.to_json(sobject, rows[i], version, fields or None)
                if i in rows
                else None
                for i in ids
            ]
        )

    async def upsert(request: Request) -> Response:
        principal = await ctx.principal(request)
        version_of(request)
        sobject = ctx.records.sobject(request.path_params["sobject"])
        body = await read_json(request)
        records = body.get("records") or []
        _check_size(len(records))
        clean = [{k: v for k, v in r.items() if k != "attributes"} for r in records]
        results = await ctx.records.upsert(
            principal.user_id,
            sobject,
            request.path_params["field"],
            clean,
            all_or_none=bool(body.get("allOrNone")),
        )
        return json_response([r.as_json(with_created=True) for r in results])

    async def composite(request: Request) -> Response:
        await ctx.principal(request)
        body = await read_json(request)
        subrequests = body.get("compositeRequest") or []
        if len(subrequests) > MAX_SUBREQUESTS:
            raise ApiError(
                400,
                "INVALID_BATCH_REQUEST",
                f"Composite request may contain at most {MAX_SUBREQUESTS} subrequests",
            )
        results: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        halted = False
        for sub in subrequests:
            reference = sub.get("referenceId", "")
            if halted:
                responses.append(
                    {
                        "body": [
                            {
                                "errorCode": "PROCESSING_HALTED",
                                "message": "The transaction was rolled back since another operation in the same transaction failed.",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": reference,
                    }
                )
                continue
            try:
                url = _resolve(str(sub.get("url", "")), results)
                payload = (
                    json.loads(_resolve(json.dumps(sub.get("body")), results))
                    if sub.get("body") is not None
                    else None
                )
            except KeyError as missing:
                responses.append(
                    {
                        "body": [
                            {
                                "errorCode": "INVALID_REFERENCE",
                                "message": f"Invalid reference specified. No value for {missing} found",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": reference,
                    }
                )
                halted = bool(body.get("allOrNone"))
                continue
            status, answer, headers = await _dispatch(
                request, str(sub.get("method", "GET")), url, payload
            )
            results[reference] = answer
            responses.append(
                {
                    "body": answer,
                    "httpHeaders": headers,
                    "httpStatusCode": status,
                    "referenceId": reference,
                }
            )
            if status >= 400 and body.get("allOrNone"):
                halted = True
        return json_response({"compositeResponse": responses})

    async def batch(request: Request) -> Response:
        await ctx.principal(request)
        version = version_of(request)
        body = await read_json(request)
        items = body.get("batchRequests") or []
        if len(items) > MAX_SUBREQUESTS:
            raise ApiError(
                400,
                "INVALID_BATCH_REQUEST",
                f"A batch may contain at most {MAX_SUBREQUESTS} subrequests",
            )
        results = []
        has_errors = False
        for item in items:
            url = str(item.get("url", ""))
            if not url.startswith("/"):
                url = (
                    f"/services/data/{url}"
                    if url.startswith("v")
                    else f"/services/data/v{version}/{url}"
                )
            if has_errors and body.get("haltOnError"):
                results.append(
                    {
                        "statusCode": 412,
                        "result": [
                            {
                                "errorCode": "BATCH_PROCESSING_HALTED",
                                "message": "Batch processing halted per request",
                            }
                        ],
                    }
                )
                continue
            status, answer, _ = await _dispatch(
                request, str(item.get("method", "GET")), url, item.get("richInput")
            )
            has_errors = has_errors or status >= 400
            results.append({"statusCode": status, "result": answer})
        return json_response({"hasErrors": has_errors, "results": results})

    async def _dispatch(
        request: Request, method: str, url: str, payload: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Run a subrequest through the app itself, with the caller's credentials."""
        import httpx

        app = request.scope["app"]
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": request.headers.get("authorization", "")}
        async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
            response = await client.request(method, url, json=payload, headers=headers)
        answer = response.json() if response.content else None
        location = (
            {"Location": f"{url.rstrip('/')}/{answer['id']}"}
            if method == "POST"
            and response.status_code == 201
            and isinstance(answer, dict)
            and "id" in answer
            else {}
        )
        return response.status_code, answer, location

    base = "/services/data/{version}/composite"
    return [
        Route(base + "/sobjects", collection, methods=["POST", "PATCH", "DELETE"]),
        Route(base + "/sobjects/", collection, methods=["POST", "PATCH", "DELETE"]),
        Route(base + "/sobjects/{sobject}", retrieve, methods=["GET"]),
        Route(base + "/sobjects/{sobject}/{field}", upsert, methods=["PATCH"]),
        Route(base, composite, methods=["POST"]),
        Route(base + "/", composite, methods=["POST"]),
        Route(base + "/batch", batch, methods=["POST"]),
    ]


def _resolve(text: str, results: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        current: Any = results[match.group(1)]
        for part in re.findall(r"[A-Za-z0-9_]+|\[\d+\]", match.group(2)):
            current = current[int(part[1:-1])] if part.startswith("[") else current[part]
        return str(current)

    return _REFERENCE.sub(value, text)
