"""The Marketing Cloud sandbox as one ASGI app: auth, REST routes, fault knobs, control."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hmac
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.marketing_cloud import events, extensions, journey_pages, pages, rows
from peoplesync.sandbox.marketing_cloud.auth import Tokens, token_route
from peoplesync.sandbox.marketing_cloud.canvas import Canvas
from peoplesync.sandbox.marketing_cloud.config import Knobs, SandboxConfig
from peoplesync.sandbox.marketing_cloud.journey_store import JourneyStore
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.marketing_cloud.wire import not_authorized, rest_error

Handler = Callable[[Request], Awaitable[Response]]


class _Sandbox:
    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.knobs = config.knobs
        self.clock = clock
        self.store = SandboxStore(config.database_path)
        self.journeys = JourneyStore(config.data_dir)  # written by `journeys run`
        self.tokens = Tokens(config, clock)
        self.random = random.Random(config.seed)  # fault knobs, not security
        self.calls = 0
        self.refused = {"429": 0, "500": 0}

    async def fault(self) -> Response | None:
        knobs = self.knobs
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        roll = self.random.random()
        if knobs.fail_next_429 > 0 or roll < knobs.rate_429:
            knobs.fail_next_429 = max(0, knobs.fail_next_429 - 1)
            self.refused["429"] += 1
            return rest_error(
                429,
                "Too Many Requests",
                0,
                headers={"Retry-After": str(knobs.retry_after_seconds)},
            )
        if knobs.fail_next_500 > 0 or roll < knobs.rate_429 + knobs.rate_500:
            knobs.fail_next_500 = max(0, knobs.fail_next_500 - 1)
            self.refused["500"] += 1
            return rest_error(500, "An unexpected error occurred.", 0)
        return None

    def owner(self, request: Request) -> bool:
        """Basic ``client_id:client_secret``: who may turn the knobs."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme != "Basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.config.client_id) and hmac.compare_digest(
            password, self.config.client_secret
        )


def create_marketing_cloud_app(
    config: SandboxConfig, clock: Callable[[], float] = time.time
) -> Starlette:
    """The sandbox app; ``clock`` drives token expiry and server timestamps."""
    sandbox = _Sandbox(config, clock)
    store = sandbox.store

    def rest(
        handler: Callable[[Request, SandboxStore], Awaitable[Response]], *, faults: bool = True
    ) -> Handler:
        async def guarded(request: Request) -> Response:
            sandbox.calls += 1
            if not sandbox.tokens.valid(request):
                return not_authorized()
            fault = await sandbox.fault() if faults else None
            return fault if fault is not None else await handler(request, store)

        return guarded

    async def token(request: Request) -> Response:
        return await token_route(request, sandbox.tokens, str(request.base_url).rstrip("/"))

    async def async_rows(request: Request, store: SandboxStore) -> Response:
        return await rows.async_rows(request, store, clock)

    async def fire(request: Request, store: SandboxStore) -> Response:
        return await events.fire(request, store, clock)

    def owned(handler: Callable[[Request, SandboxStore], Awaitable[Response]]) -> Handler:
        """Pages for a person: Basic auth with the client id and secret (a browser asks)."""

        async def guarded(request: Request) -> Response:
            if not sandbox.owner(request):
                return Response(
                    "client id and secret required",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="marketing cloud sandbox"'},
                )
            return await handler(request, store)

        return guarded

    def owned_journeys(
        handler: Callable[[Request, JourneyStore], Awaitable[Response]],
    ) -> Handler:
        async def with_journeys(request: Request, _: SandboxStore) -> Response:
            return await handler(request, sandbox.journeys)

        return owned(with_journeys)

    async def control(request: Request) -> Response:
        """``GET``/``PUT /sandbox/control``: read or change knobs; ``expire_tokens``."""
        if not sandbox.owner(request):
            return JSONResponse({"message": "client id and secret required"}, status_code=401)
        if request.method == "PUT":
            body = await extensions.read_json(request)
            if not isinstance(body, dict):
                return rest_error(400, "The body must be a JSON object of knobs.", 10004)
            names = {each.name for each in dataclasses.fields(Knobs)}
            unknown = set(body) - names - {"expire_tokens"}
            if unknown:
                return rest_error(400, f"Unknown knobs: {', '.join(sorted(unknown))}", 10005)
            try:
                changed = {
                    name: type(getattr(sandbox.knobs, name))(value)
                    for name, value in body.items()
                    if name in names
                }
            except (TypeError, ValueError):
                return rest_error(400, "Each knob takes a number.", 10001)
            for name, value in changed.items():
                setattr(sandbox.knobs, name, value)
            if body.get("expire_tokens"):
                sandbox.tokens.expire_all()
        return JSONResponse(
            {
                "knobs": dataclasses.asdict(sandbox.knobs),
                "calls": sandbox.calls,
                "refused": sandbox.refused,
                "tokens_issued": sandbox.tokens.issued,
            }
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await store.open()
        await sandbox.journeys.open()
        try:
            yield
        finally:
            await sandbox.journeys.close()
            await store.close()

    canvas = Canvas(config, sandbox.tokens, clock)
    customobjects = "/data/v1/customobjects"
    dataevents = "/hub/v1/dataevents/{reference}"
    routes = [
        Route("/v2/token", token, methods=["POST"]),
        Route(customobjects, rest(extensions.create), methods=["POST"]),
        Route(customobjects, rest(extensions.search), methods=["GET"]),
        Route(customobjects + "/{reference}", rest(extensions.read), methods=["GET"]),
        Route(customobjects + "/{reference}/fields", rest(extensions.fields), methods=["GET"]),
        Route(customobjects + "/{reference}/fields", rest(extensions.add_fields), methods=["POST"]),
        Route(dataevents + "/rowset", rest(rows.rowset), methods=["POST"]),
        Route(dataevents + "/rows/{key}", rest(rows.one_row), methods=["PUT"]),
        Route(
            "/data/v1/async/dataextensions/{reference}/rows",
            rest(async_rows),
            methods=["POST", "PUT"],
        ),
        Route("/data/v1/async/{request_id}/status", rest(rows.async_status), methods=["GET"]),
        Route("/data/v1/async/{request_id}/results", rest(rows.async_results), methods=["GET"]),
        Route("/data/v1/customobjectdata/key/{key}/rowset", rest(rows.read_rows)),
        Route("/interaction/v1/events", rest(fire), methods=["POST"]),
        Route(
            "/interaction/v1/eventDefinitions",
            rest(events.create_definition),
            methods=["POST"],
        ),
        Route("/interaction/v1/eventDefinitions", rest(events.list_definitions), methods=["GET"]),
        Route("/interaction/v1/eventDefinitions/{reference}", rest(events.read_definition)),
        Route("/sandbox/events", rest(events.list_events, faults=False)),
        Route("/sandbox/control", control, methods=["GET", "PUT"]),
        Route("/sandbox", owned(pages.extensions_page)),
        Route("/sandbox/extensions/{key}", owned(pages.rows_page)),
        Route("/journeys/canvas", owned(canvas.page)),
        Route("/journeys/canvas.js", canvas.script),
        Route("/journeys/canvas/activities/{key}", owned(canvas.save), methods=["POST"]),
        Route("/journeys/canvas/activate", owned(canvas.activate), methods=["POST"]),
        Route("/sandbox/journeys", owned_journeys(journey_pages.runs_page)),
        Route("/sandbox/journeys/{run}", owned_journeys(journey_pages.run_page)),
        Route(
            "/sandbox/journeys/{run}/contacts/{contact}",
            owned_journeys(journey_pages.contact_page),
        ),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    app.state.canvas = canvas
    return app
