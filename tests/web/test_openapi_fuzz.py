"""Schemathesis against the REST API's own OpenAPI document, on a real store (SQLite and
PostgreSQL), as an admin: every operation of the document (whoever added it) gets generated
valid and invalid requests; none may get a server error, invalid ones must be refused with a
4xx, and every answer must match what the document promises (status, content type, body).

Hypothesis runs in a worker thread; each request goes back to the test's event loop, where
the app and its store live, through httpx's ASGI transport. The examples are bounded (a
budget shared by the operations) and derandomized, so a run is repeatable and short; set
PEOPLESYNC_FUZZ_EXAMPLES for a longer one and PEOPLESYNC_FUZZ_SEED for other examples.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import BASE_URL, Users, seed_people, seed_status

API = f"{BASE_URL}/api/v1"
BUDGET = int(os.environ.get("PEOPLESYNC_FUZZ_EXAMPLES", "320"))  # requests per backend
SEED = os.environ.get("PEOPLESYNC_FUZZ_SEED")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _request(case: schemathesis.Case, token: str) -> dict[str, Any]:
    """The case as arguments of ``httpx.AsyncClient.request``."""
    sent = case.as_transport_kwargs(base_url=API)
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "params": sent.get("params"),
        "headers": {**sent.get("headers", {}), "Authorization": f"Bearer {token}"},
        "cookies": sent.get("cookies") or None,
    }
    if "json" in sent:
        request["json"] = sent["json"]
    data = sent.get("data")
    if isinstance(data, str | bytes):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    if sent.get("files"):
        files = sent["files"]
        pairs = files.items() if isinstance(files, dict) else files
        request["files"] = [(name, _file_part(part)) for name, part in pairs]
    return request


def _file_content(value: Any) -> Any:
    return value if isinstance(value, str | bytes) or hasattr(value, "read") else str(value)


def _file_part(part: Any) -> Any:
    """A multipart part in httpx's form (invalid cases may give a number as the content)."""
    if isinstance(part, tuple):
        return (part[0], _file_content(part[1]), *part[2:])
    return _file_content(part)


# Keys of a parameter's schema that describe it without constraining it.
_ANNOTATIONS = {"type", "title", "description", "default", "examples", "example"}


def _can_be_invalid(definition: dict[str, Any]) -> bool:
    """Whether an operation has something invalid to send (a body, a required query or header
    parameter, a constrained parameter); Hypothesis spends seconds concluding that there is
    nothing otherwise (a bare string in the path)."""
    if definition.get("requestBody"):
        return True
    for parameter in definition.get("parameters", []):
        if parameter.get("required") and parameter.get("in") != "path":
            return True
        schema = parameter.get("schema", {})
        if schema.get("type") != "string" or set(schema) - _ANNOTATIONS:
            return True
    return False


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    examples: int,
    send: Any,
) -> None:
    """Run Hypothesis over one operation in one generation mode (blocking)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def check(case: schemathesis.Case) -> None:
        response = send(case)
        case.validate_response(response, checks=CHECKS)

    if SEED is not None:
        check = hypothesis_seed(int(SEED))(check)
    check()


async def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    admin: httpx.AsyncClient, users: Users, store: SqlPeopleStore, clock: ManualClock
) -> None:
    await seed_people(store)
    await seed_status(store, clock)
    document = (await admin.get("/api/v1/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8  # the document lists the API (persons, integrations, me...)
    examples = max(4, BUDGET // (2 * len(operations)))
    loop = asyncio.get_running_loop()

    async def call(case: schemathesis.Case) -> httpx.Response:
        request = admin.build_request(**_request(case, users.admin_token))
        request.read()  # a multipart body too, so that a failure report can show it
        return await admin.send(request)

    def send(case: schemathesis.Case) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(call(case), loop).result(timeout=60)

    failures: list[str] = []
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if _can_be_invalid(operation.definition.raw):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                await asyncio.to_thread(_fuzz, operation, mode, examples, send)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.path  # nothing invalid to send
            except Exception as error:
                failures.append(
                    f"{operation.method.upper()} {operation.path} ({mode.value}):\n{error}"
                )
    assert not failures, "\n\n".join(failures)
