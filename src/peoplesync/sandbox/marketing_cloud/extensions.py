"""Data extension definitions over REST: create, find, read, add fields.

The real API creates and reads definitions at ``/data/v1/customobjects`` (undocumented but
used in production); adding fields to an existing extension is SOAP-only there
(``DataExtension`` Update). The sandbox serves it as ``POST .../customobjects/{id}/fields``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peoplesync.sandbox.marketing_cloud.fields import FieldProblem, check_definition
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.marketing_cloud.wire import INVALID_MESSAGE, rest_error


async def read_json(request: Request) -> Any:
    """The body as JSON, or ``None`` when it is not JSON."""
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


def _fields(raw: object, start: int) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise FieldProblem("fields must be an array of field definitions.", INVALID_MESSAGE)
    fields = []
    for offset, each in enumerate(raw):
        if not isinstance(each, dict):
            raise FieldProblem("Each field must be an object.", INVALID_MESSAGE)
        checked = check_definition(each)
        checked["ordinal"] = start + offset
        fields.append(checked)
    names = [field["name"].lower() for field in fields]
    if len(set(names)) != len(names):
        raise FieldProblem("Field names must be unique.", 10005)
    return fields


def _summary(extension: dict[str, Any]) -> dict[str, Any]:
    return {key: extension[key] for key in ("id", "name", "key", "isSendable")}


async def create(request: Request, store: SandboxStore) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict) or not body.get("name"):
        return rest_error(400, "A data extension needs a name.", 10002)
    try:
        fields = _fields(body.get("fields", []), 0)
    except FieldProblem as problem:
        return rest_error(400, problem.message, problem.code)
    key = str(body.get("key") or uuid.uuid4()).strip()
    async with store.lock:
        for existing in await store.extensions():
            if existing["key"].lower() == key.lower() or existing["name"] == body["name"]:
                return rest_error(
                    400, f"A data extension named {body['name']} or keyed {key} exists.", 10005
                )
        extension = {
            "id": str(uuid.uuid4()),
            "name": str(body["name"]),
            "key": key,
            "isSendable": bool(body.get("isSendable", False)),
            "fields": fields,
        }
        await store.save_extension(extension)
    return JSONResponse(extension, status_code=201)


async def search(request: Request, store: SandboxStore) -> Response:
    wanted = request.query_params.get("$search", "").lower()
    found = [
        _summary(each)
        for each in await store.extensions()
        if not wanted or wanted in each["name"].lower() or wanted == each["key"].lower()
    ]
    return JSONResponse({"count": len(found), "page": 1, "pageSize": 50, "items": found})


async def _find(request: Request, store: SandboxStore) -> dict[str, Any] | Response:
    reference = request.path_params["reference"]
    extension = await store.extension(reference)
    if extension is None:
        return rest_error(404, f"Parameter {reference} is invalid.", 10001)
    return extension


async def read(request: Request, store: SandboxStore) -> Response:
    found = await _find(request, store)
    return found if isinstance(found, Response) else JSONResponse(found)


async def fields(request: Request, store: SandboxStore) -> Response:
    found = await _find(request, store)
    if isinstance(found, Response):
        return found
    return JSONResponse({"id": found["id"], "fields": found["fields"]})


async def add_fields(request: Request, store: SandboxStore) -> Response:
    """Add fields to an extension; existing rows get the default (or nothing)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        return rest_error(400, "The body must be an object with fields.", INVALID_MESSAGE)
    async with store.lock:
        found = await _find(request, store)
        if isinstance(found, Response):
            return found
        try:
            added = _fields(body.get("fields", []), len(found["fields"]))
        except FieldProblem as problem:
            return rest_error(400, problem.message, problem.code)
        have = {field["name"].lower() for field in found["fields"]}
        has_rows = await store.row_count(found["id"]) > 0
        for field in added:
            if field["name"].lower() in have:
                return rest_error(400, f"Field {field['name']} already exists.", 10005)
            if field["isPrimaryKey"] and has_rows:
                return rest_error(
                    400, f"Field {field['name']}: cannot add a primary key to rows.", 10005
                )
            if not field["isNullable"] and field["defaultValue"] is None and has_rows:
                return rest_error(
                    400, f"Field {field['name']}: a required field needs a default.", 10002
                )
        found["fields"] = [*found["fields"], *added]
        await store.save_extension(found)
    return JSONResponse({"id": found["id"], "fields": found["fields"]})
