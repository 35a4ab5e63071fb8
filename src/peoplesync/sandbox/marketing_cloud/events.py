"""API events (``/interaction/v1/events``) and their event definitions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peoplesync.sandbox.marketing_cloud.extensions import read_json
from peoplesync.sandbox.marketing_cloud.fields import FieldProblem, check_row
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.marketing_cloud.wire import rest_error


async def create_definition(request: Request, store: SandboxStore) -> Response:
    body = await read_json(request)
    key = body.get("eventDefinitionKey") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(key, str) or not key:
        return rest_error(400, "eventDefinitionKey is required.", 10002)
    if "." in key:
        return rest_error(400, "eventDefinitionKey must not contain a period.", 10005)
    extension_id = body.get("dataExtensionId")
    if extension_id and await store.extension(str(extension_id)) is None:
        return rest_error(400, f"Parameter {extension_id} is invalid.", 10001)
    existing = await store.event_definition(f"key:{key}")
    definition: dict[str, Any] = {
        "id": existing["id"] if existing else str(uuid.uuid4()),
        "type": str(body.get("type") or "APIEvent"),
        "name": str(body.get("name") or key),
        "eventDefinitionKey": key,
        "dataExtensionId": extension_id,
        "mode": "Production",
    }
    async with store.lock:
        await store.save_event_definition(definition)
    return JSONResponse(definition, status_code=201)


async def list_definitions(_: Request, store: SandboxStore) -> Response:
    items = await store.event_definitions()
    return JSONResponse({"count": len(items), "page": 1, "pageSize": 50, "items": items})


async def read_definition(request: Request, store: SandboxStore) -> Response:
    reference = request.path_params["reference"]
    found = await store.event_definition(reference)
    if found is None:
        return rest_error(404, f"Event definition {reference} not found.", 10001)
    return JSONResponse(found)


async def fire(request: Request, store: SandboxStore, clock: Callable[[], float]) -> Response:
    """One contact into (or resuming in) a journey; its data lands in the event's extension."""
    body = await read_json(request)
    if not isinstance(body, dict):
        return rest_error(400, "The body must be a JSON object.", 10004)
    key, contact = body.get("EventDefinitionKey"), body.get("ContactKey")
    if not key or not contact:
        return rest_error(400, "ContactKey and EventDefinitionKey are required.", 10002)
    definition = await store.event_definition(f"key:{key}")
    if definition is None:
        return rest_error(400, f"Event Definition Key {key} is not valid.", 10000)
    data = body.get("Data") or {}
    if not isinstance(data, dict):
        return rest_error(400, "Data must be an object.", 10004)
    if definition.get("dataExtensionId"):
        extension = await store.extension(definition["dataExtensionId"])
        if extension is not None:
            try:
                pk, row = check_row(extension["fields"], data, insert=True)
            except FieldProblem as problem:
                return rest_error(400, problem.message, problem.code)
            async with store.lock:
                await store.upsert_rows(extension["id"], [(pk, row)])
    event_id = str(uuid.uuid4())
    async with store.lock:
        await store.add_event(event_id, str(key), str(contact), data, clock())
    return JSONResponse({"eventInstanceId": event_id}, status_code=201)


async def list_events(request: Request, store: SandboxStore) -> Response:
    """Sandbox only: the events fired so far (``?key=`` for one definition)."""
    items = await store.events(request.query_params.get("key"))
    return JSONResponse({"count": len(items), "items": items})
