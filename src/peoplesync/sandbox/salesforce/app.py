"""The sandbox org as one ASGI app: OAuth, SOAP, REST, collections, admin; limits and faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce import (
    bulk1,
    bulk2,
    collections,
    cometd,
    oauth_routes,
    rest,
    ui_addresses,
    ui_convert,
)
from peoplesync.sandbox.salesforce.api_context import (
    SUBREQUEST,
    ApiContext,
    ApiError,
    json_response,
    read_json,
)
from peoplesync.sandbox.salesforce.auth import AuthServer
from peoplesync.sandbox.salesforce.bulk1_jobs import Bulk1Jobs
from peoplesync.sandbox.salesforce.bulk2_jobs import Bulk2Jobs
from peoplesync.sandbox.salesforce.bulk_store import BulkStore
from peoplesync.sandbox.salesforce.change import Publisher
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.conversion import soap_operations
from peoplesync.sandbox.salesforce.events import ChangeEventLog
from peoplesync.sandbox.salesforce.limits import ApiUsage
from peoplesync.sandbox.salesforce.query_cursor import QueryCursors
from peoplesync.sandbox.salesforce.record_results import RequestError
from peoplesync.sandbox.salesforce.records import RecordService
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.soql import SoqlError
from peoplesync.sandbox.salesforce.storage import Storage
from peoplesync.sandbox.salesforce.ui_access import UiAccess
from peoplesync.sandbox.salesforce.ui_render import stylesheet
from peoplesync.sandbox.salesforce.wire_headers import WireHeaders

Clock = Callable[[], datetime]
METERED = ("/services/data/v", "/services/async/", "/services/Soap/u/", "/cometd/")
LONG_RUNNING = ("/query", "/queryAll", "/composite", "/jobs/")


def _system_clock() -> datetime:
    return datetime.now(UTC)


class _Org:
    """Everything the org's handlers share, opened and closed with the app."""

    def __init__(self, config: SandboxConfig, clock: Clock, publish: Publisher | None) -> None:
        self.config = config
        self.clock = clock
        self.storage = Storage(config.database_path, Schema.standard())
        self.auth = AuthServer(config, clock)
        self.usage = ApiUsage(config, clock)
        self.events = ChangeEventLog(config, clock)
        self.extra_publish = publish
        self.records = RecordService(self.storage, clock, publish=self._publish)
        self.ctx: ApiContext | None = None
        self.requests: list[dict[str, Any]] = []

    async def _publish(self, transaction_key: str, changes: Any) -> None:
        await self.events.publish(transaction_key, changes)
        if self.extra_publish is not None:
            await self.extra_publish(transaction_key, changes)

    async def open(self) -> ApiContext:
        await self.storage.open()
        await self.events.open()
        await self._ensure_admin_user()
        await self.auth.open()
        await self.usage.open()
        self.ctx = ApiContext(
            self.config,
            self.auth,
            self.records,
            QueryCursors(self.config.database_path, self.storage.schema, self.clock),
            self.usage,
            self.clock,
        )
        return self.ctx

    async def _ensure_admin_user(self) -> None:
        config = self.config
        if await self.records.fetch("User", [config.user_id]):
            return
        now = self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        row = {
            "Id": config.user_id,
            "IsDeleted": 0,
            "Username": config.username,
            "FirstName": "Sandbox",
            "LastName": "Admin",
            "Name": "Sandbox Admin",
            "Email": config.username,
            "Alias": "sadmin",
            "IsActive": 1,
            "TimeZoneSidKey": "UTC",
            "LocaleSidKey": "en_US",
            "LanguageLocaleKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "UserType": "Standard",
            "CreatedDate": now,
            "LastModifiedDate": now,
            "SystemModstamp": now,
            "CreatedById": config.user_id,
            "LastModifiedById": config.user_id,
        }
        await self.records._insert_rows("User", [row])
        await self.storage.conn.commit()

    async def close(self) -> None:
        if self.ctx is not None:
            await self.ctx.queries.close_all()
        await self.usage.close()
        await self.auth.close()
        await self.events.close()
        await self.storage.close()


class _Guard(BaseHTTPMiddleware):
    """Counts API calls, enforces the allowance, injects faults, and renders errors."""

    def __init__(self, app: Any, org: _Org) -> None:
        super().__init__(app)
        self.org = org

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        metered = (
            path.startswith(METERED)
            and not path.endswith("/services/data/")
            and not request.scope.get(SUBREQUEST)
        )
        usage = self.org.usage
        if metered:
            knobs = self.org.config.knobs
            if knobs.latency_ms:
                await asyncio.sleep(knobs.latency_ms / 1000)
            if not usage.spend():
                return self._log(
                    request,
                    json_response(
                        [
                            {
                                "message": "TotalRequests Limit exceeded.",
                                "errorCode": "REQUEST_LIMIT_EXCEEDED",
                            }
                        ],
                        403,
                    ),
                )
            fault = usage.fault()
            if fault == "503":
                return self._log(
                    request,
                    json_response(
                        [
                            {
                                "message": "Server temporarily unavailable",
                                "errorCode": "SERVER_UNAVAILABLE",
                            }
                        ],
                        503,
                        {"Sforce-Limit-Info": usage.header()},
                    ),
                )
            if fault == "timeout":
                await asyncio.sleep(knobs.timeout_seconds)
                return self._log(
                    request,
                    json_response(
                        [{"message": "Request timed out", "errorCode": "REQUEST_RUNNING_TOO_LONG"}],
                        504,
                    ),
                )
            if fault == "lock" and request.method in ("POST", "PATCH", "PUT", "DELETE"):
                return self._log(
                    request,
                    json_response(
                        [
                            {
                                "message": "unable to obtain exclusive access to this record or 1 records",
                                "errorCode": "UNABLE_TO_LOCK_ROW",
                            }
                        ],
                        400,
                        {"Sforce-Limit-Info": usage.header()},
                    ),
                )
        try:
            if metered and any(part in path for part in LONG_RUNNING):
                if usage.long_running.locked():
                    raise ApiError(
                        503, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
                    )
                async with usage.long_running:
                    response = await call_next(request)
            else:
                response = await call_next(request)
        except ApiError as exc:
            response = exc.response()
        except RequestError as exc:
            response = ApiError(exc.status, exc.error_code, exc.message).response()
        except SoqlError as exc:
            response = ApiError(400, exc.error_code, exc.message).response()
        if metered:
            response.headers["Sforce-Limit-Info"] = usage.header()
        return self._log(request, response)

    def _log(self, request: Request, response: Response) -> Response:
        entry = {
            "time": self.org.clock().isoformat(),
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
        }
        self.org.requests.append(entry)
        if len(self.org.requests) > 100_000:
            del self.org.requests[:50_000]
        return response


def admin_routes(org: _Org) -> list[Route]:
    """Sandbox-only endpoints: fault knobs, custom fields, the request log."""

    async def knobs(request: Request) -> Response:
        ctx = org.ctx
        assert ctx is not None
        await ctx.principal(request)
        config = org.config
        if request.method == "PUT":
            body = await read_json(request)
            for key, value in body.items():
                if key in ("token_lifetime_seconds", "api_daily_limit"):
                    setattr(config, key, int(value))
                elif hasattr(config.knobs, key):
                    setattr(config.knobs, key, type(getattr(config.knobs, key))(value))
                else:
                    raise ApiError(400, "INVALID_FIELD", f"unknown knob {key}")
        return json_response(
            {
                **asdict(config.knobs),
                "token_lifetime_seconds": config.token_lifetime_seconds,
                "api_daily_limit": config.api_daily_limit,
            }
        )

    async def custom_field(request: Request) -> Response:
        ctx = org.ctx
        assert ctx is not None
        await ctx.principal(request)
        body = await read_json(request)
        spec = {
            k: body[k]
            for k in ("kind", "length", "external_id", "unique", "picklist", "label")
            if k in body
        }
        try:
            meta = await org.storage.add_custom_field(
                str(body.get("sobject", "")), str(body.get("name", "")), spec
            )
        except ValueError as exc:
            raise ApiError(400, "INVALID_FIELD", str(exc)) from None
        return json_response({"name": meta.name, "type": meta.type}, 201)

    async def requests(request: Request) -> Response:
        ctx = org.ctx
        assert ctx is not None
        await ctx.principal(request)
        return json_response(org.requests[-int(request.query_params.get("limit", "1000")) :])

    return [
        Route("/sandbox/admin/knobs", knobs, methods=["GET", "PUT"]),
        Route("/sandbox/admin/custom-fields", custom_field, methods=["POST"]),
        Route("/sandbox/admin/requests", requests, methods=["GET"]),
    ]


def ui_routes(ctx: ApiContext) -> list[Route]:
    """The record UI (not metered: its paths are outside the API's); the catch-all
    ``/{id}`` address comes last."""
    access = UiAccess(ctx)
    return [
        Route("/sandbox/ui/ui.css", stylesheet),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        *access.routes(),
        *ui_convert.routes(ctx, access),
        *ui_addresses.routes(ctx, access),
    ]


def create_sandbox_app(
    config: SandboxConfig, *, clock: Clock | None = None, publish: Publisher | None = None
) -> Starlette:
    """The sandbox org for ``config``; its lifespan opens and closes the database."""
    org = _Org(config, clock or _system_clock, publish)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = await org.open()
        app.state.org = org
        store = BulkStore(org.records)
        await store.open()
        jobs1, jobs2 = Bulk1Jobs(ctx, store), Bulk2Jobs(ctx, store)
        await jobs1.open()
        await jobs2.open()
        for route in [
            *oauth_routes.routes(ctx, soap_operations(ctx)),
            *rest.routes(ctx),
            *bulk2.routes(ctx, jobs2),
            *bulk1.routes(ctx, jobs1),
            *collections.routes(ctx),
            *cometd.routes(ctx, org.events),
            *ui_routes(ctx),
        ]:
            app.router.routes.append(route)
        flusher = asyncio.create_task(_flush_periodically(org))
        try:
            yield
        finally:
            flusher.cancel()
            await jobs1.close()
            await jobs2.close()
            await org.close()

    return Starlette(
        routes=admin_routes(org),
        lifespan=lifespan,
        middleware=[Middleware(WireHeaders), Middleware(_Guard, org=org)],
    )


async def _flush_periodically(org: _Org) -> None:
    while True:
        await asyncio.sleep(5)
        await org.usage.flush()
        if org.ctx is not None:
            await org.ctx.queries.expire()
