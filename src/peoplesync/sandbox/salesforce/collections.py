"""sObject Collections, Composite and Composite Batch."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import (
    SUBREQUEST,
    ApiContext,
    ApiError,
    json_response,
    read_json,
)
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
        """Run a subrequest through the app itself (straight into the ASGI app: no HTTP
        client, whose URL handling costs more than the query for a 60,000-character
        ``Email IN`` list), with the caller's credentials."""
        # As an HTTP client would send them: characters beyond printable ASCII percent-encoded.
        path, _, query = (quote(part, safe=_PRINTABLE) for part in url.partition("?"))
        content = json.dumps(payload).encode() if payload is not None else b""
        headers = [
            (b"host", request.headers.get("host", "").encode()),
            (b"authorization", request.headers.get("authorization", "").encode()),
            (b"content-length", str(len(content)).encode()),
        ]
        if payload is not None:
            headers.append((b"content-type", b"application/json"))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": request.url.scheme,
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "server": request.scope.get("server"),
            "client": request.scope.get("client"),
            SUBREQUEST: True,
        }
        sent = False
        status = 500
        body = bytearray()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": content, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await request.scope["app"](scope, receive, send)
        answer = json.loads(body) if body else None
        location = (
            {"Location": f"{url.rstrip('/')}/{answer['id']}"}
            if method == "POST" and status == 201 and isinstance(answer, dict) and "id" in answer
            else {}
        )
        return status, answer, location

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


_PRINTABLE = "".join(chr(code) for code in range(33, 127))


def _resolve(text: str, results: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        current: Any = results[match.group(1)]
        for part in re.findall(r"[A-Za-z0-9_]+|\[\d+\]", match.group(2)):
            current = current[int(part[1:-1])] if part.startswith("[") else current[part]
        return str(current)

    return _REFERENCE.sub(value, text)
