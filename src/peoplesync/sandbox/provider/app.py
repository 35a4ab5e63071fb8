"""The sandbox provider as one ASGI app: send endpoints, control endpoints, report loop."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.provider.checks import check_v2_messages, check_whatsapp_template
from peoplesync.sandbox.provider.clicks import (
    ClickControl,
    UrlOptions,
    shorten_content,
    url_options,
)
from peoplesync.sandbox.provider.config import ProviderConfig
from peoplesync.sandbox.provider.envelope import error_response
from peoplesync.sandbox.provider.inbound import InboundControl
from peoplesync.sandbox.provider.inbound_configs import InboundConfigs
from peoplesync.sandbox.provider.outcomes import REJECTED_DUPLICATE, fate_of
from peoplesync.sandbox.provider.reports import ReportDispatcher
from peoplesync.sandbox.provider.store import MessageStore, NewMessage, SandboxLink

Clock = Callable[[], float]

# path -> channel, for the endpoints that share the current request shape
V2_PATHS = {
    "/sms/3/messages": "sms",
    "/mms/2/messages": "mms",
    "/rcs/2/messages": "rcs",
    "/viber/2/messages": "viber",
    "/kakao-alim/1/messages": "kakao-alim",
    "/kakao-chingu/1/messages": "kakao-chingu",
    "/zalo/2/messages": "zalo",
}
WHATSAPP_PATH = "/whatsapp/1/message/template"
SEEN_CHANNELS = frozenset({"viber", "rcs", "whatsapp"})


class _Provider:
    def __init__(
        self, config: ProviderConfig, clock: Clock, webhook_client: httpx.AsyncClient | None
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = MessageStore(config.database_path)
        self.random = random.Random(config.seed)  # fault knobs, not security
        self._own_client = webhook_client is None
        self.http = webhook_client or httpx.AsyncClient()
        self.reports = ReportDispatcher(config, self.store, self.http, clock)
        self.configs = InboundConfigs(config.database_path)
        self.inbound = InboundControl(
            self.store, clock, config.mo_url, forward_url=self.configs.forward_url
        )
        self.clicks = ClickControl(self.store, clock)
        self.calls = 0
        self.duplicates = 0  # sends refused as REJECTED_DUPLICATE_MESSAGE_ID

    def authorised(self, request: Request) -> bool:
        """``App <key>``, or (for the handset page in a browser) Basic with the key as password."""
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme == "Basic":
            try:
                key = base64.b64decode(key, validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return False
        elif scheme != "App":
            return False
        return hmac.compare_digest(key.encode(), self.config.api_key.encode())

    async def faults(self, legacy: bool) -> Response | None:
        knobs = self.config.knobs
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        roll = self.random.random()
        if roll < knobs.rate_500:
            return error_response(500, legacy=legacy)
        if roll < knobs.rate_500 + knobs.rate_429:
            return error_response(429, legacy=legacy)
        return None

    def new_message(
        self,
        channel: str,
        bulk_id: str,
        to: str,
        message_id: str | None,
        message: Mapping[str, Any],
        hooks: Mapping[str, Any],
        parts: int,
    ) -> NewMessage:
        now = self.clock()
        knobs = self.config.knobs
        fate = fate_of(to, channel)
        if fate.final is None:
            report_due = None
        elif fate.pending_until_expiry:
            report_due = now + knobs.pending_expiry_seconds
        else:
            report_due = now + knobs.report_delay_seconds
        seen_due = (
            report_due + knobs.seen_delay_seconds
            if fate.seen and report_due is not None and hooks.get("seen_url")
            else None
        )
        return NewMessage(
            message_id=message_id or str(uuid.UUID(int=self.random.getrandbits(128))),
            bulk_id=bulk_id,
            channel=channel,
            recipient=to,
            sender=message.get("sender") or message.get("from"),
            body={**message, "_parts": parts},
            callback_data=hooks.get("callbackData"),
            notify_url=hooks.get("url"),
            seen_url=hooks.get("seen_url"),
            status=fate.at_send.as_json(),
            submitted_at=now,
            report_due=report_due,
            seen_due=seen_due,
        )


def _shortened(
    provider: _Provider,
    request: Request,
    channel: str,
    message: Mapping[str, Any],
    options: UrlOptions | None,
    message_id: str | None,
) -> tuple[str, Mapping[str, Any], list[SandboxLink]]:
    """The message id, the message as the handset gets it (URLs shortened when asked) and
    its short links."""
    message_id = message_id or str(uuid.UUID(int=provider.random.getrandbits(128)))
    if options is None or not options.shorten:
        return message_id, message, []
    base = str(request.base_url).rstrip("/")
    if options.remove_protocol:
        base = base.split("://", 1)[-1]
    short, found = shorten_content(channel, message, base)
    tracking = options.tracking_url if options.track else None
    links = [SandboxLink(code, message_id, at, url, tracking) for at, url, code in found]
    return message_id, short, links


def _parts(channel: str, content: Mapping[str, Any]) -> int:
    """A rough part count for SMS reports: 160 characters, then 153 a part."""
    text = content.get("text") if isinstance(content, Mapping) else None
    if channel != "sms" or not isinstance(text, str) or len(text) <= 160:
        return 1
    return -(-len(text) // 153)


async def _send_v2(provider: _Provider, request: Request, channel: str) -> Response:
    body = await _json(request)
    if body is None:
        return error_response(400, legacy=False, violations=[("body", "must be valid JSON")])
    violations = check_v2_messages(channel, body)
    if violations:
        return error_response(400, legacy=False, violations=violations)
    options = body.get("options") or {}
    bulk_id = str((options.get("schedule") or {}).get("bulkId") or uuid.uuid4())
    tracking = url_options(options.get("tracking"))
    new: list[NewMessage] = []
    links: list[SandboxLink] = []
    for message in body["messages"]:
        webhooks = message.get("webhooks") or {}
        hooks = {
            "url": (webhooks.get("delivery") or {}).get("url"),
            "seen_url": (webhooks.get("seen") or {}).get("url"),
            "callbackData": webhooks.get("callbackData"),
        }
        for destination in message["destinations"]:
            message_id, short, found = _shortened(
                provider, request, channel, message, tracking, destination.get("messageId")
            )
            links += found
            new.append(
                provider.new_message(
                    channel,
                    bulk_id,
                    destination["to"],
                    message_id,
                    short,
                    hooks,
                    _parts(channel, short.get("content") or {}),
                )
            )
    duplicates = await provider.store.add(new)
    await provider.store.add_links([k for k in links if k.message_id not in duplicates])
    provider.duplicates += len(duplicates)
    results = []
    for item in new:
        status = REJECTED_DUPLICATE.as_json() if item.message_id in duplicates else item.status
        entry: dict[str, Any] = {
            "messageId": item.message_id,
            "status": status,
            "destination": item.recipient,
        }
        if channel == "sms":
            entry["details"] = {"messageCount": item.body["_parts"]}
        results.append(entry)
    return JSONResponse({"bulkId": bulk_id, "messages": results})


async def _send_whatsapp(provider: _Provider, request: Request) -> Response:
    body = await _json(request)
    if body is None:
        return error_response(400, legacy=True, violations=[("body", "must be valid JSON")])
    violations = check_whatsapp_template(body)
    if violations:
        return error_response(400, legacy=True, violations=violations)
    bulk_id = str(body.get("bulkId") or uuid.uuid4())
    new: list[NewMessage] = []
    links: list[SandboxLink] = []
    for message in body["messages"]:
        message_id, short, found = _shortened(
            provider,
            request,
            "whatsapp",
            message,
            url_options(message.get("urlOptions")),
            message.get("messageId"),
        )
        links += found
        hooks = {"url": message.get("notifyUrl"), "callbackData": message.get("callbackData")}
        new.append(
            provider.new_message("whatsapp", bulk_id, message["to"], message_id, short, hooks, 1)
        )
    duplicates = await provider.store.add(new)
    await provider.store.add_links([k for k in links if k.message_id not in duplicates])
    provider.duplicates += len(duplicates)
    results = [
        {
            "to": item.recipient,
            "messageCount": 1,
            "messageId": item.message_id,
            "status": REJECTED_DUPLICATE.as_json()
            if item.message_id in duplicates
            else item.status,
        }
        for item in new
    ]
    return JSONResponse({"messages": results, "bulkId": bulk_id})


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def create_provider_app(
    config: ProviderConfig,
    *,
    clock: Clock = time.time,
    webhook_client: httpx.AsyncClient | None = None,
    run_reports: bool = True,
) -> Starlette:
    """The sandbox provider; ``webhook_client`` carries its reports (tests pass an ASGI one)."""
    provider = _Provider(config, clock, webhook_client)

    def endpoint(
        handler: Callable[[Request], Awaitable[Response]], legacy: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            provider.calls += 1
            if not provider.authorised(request):
                return error_response(401, legacy=legacy)
            fault = await provider.faults(legacy)
            try:
                return fault if fault is not None else await handler(request)
            except ClientDisconnect:  # the caller went away before its body came: no answer
                return Response(status_code=499)

        return guarded

    def control(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """Control routes: the key, but no fault knobs (they model the network, not the API)."""

        async def guarded(request: Request) -> Response:
            if not provider.authorised(request):
                refused = error_response(401, legacy=False)
                if request.url.path == "/handset":  # lets a browser ask for the key
                    refused.headers["WWW-Authenticate"] = 'Basic realm="sandbox provider"'
                return refused
            return await handler(request)

        return guarded

    def v2(channel: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await _send_v2(provider, request, channel)

        return endpoint(handle, legacy=False)

    async def whatsapp(request: Request) -> Response:
        return await _send_whatsapp(provider, request)

    async def messages(request: Request) -> Response:
        recent = await provider.store.recent(int(request.query_params.get("limit", "100")))
        return JSONResponse(
            {
                "messages": [
                    {
                        "messageId": m.message_id,
                        "bulkId": m.bulk_id,
                        "channel": m.channel,
                        "to": m.recipient,
                        "status": m.status,
                        "callbackData": m.callback_data,
                    }
                    for m in recent
                ],
                "reportsDelivered": len(provider.reports.delivered),
                "stored": await provider.store.count(),
                "duplicates": provider.duplicates,
                "calls": provider.calls,
            }
        )

    async def dispatch(_: Request) -> Response:
        return JSONResponse({"posted": await provider.reports.dispatch_due()})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await provider.store.open()
        await provider.configs.open()
        if run_reports:
            provider.reports.start()
        try:
            yield
        finally:
            await provider.reports.stop()
            if provider._own_client:
                await provider.http.aclose()
            await provider.configs.close()
            await provider.store.close()

    routes = [Route(path, v2(channel), methods=["POST"]) for path, channel in V2_PATHS.items()]
    routes += [
        Route(WHATSAPP_PATH, endpoint(whatsapp, legacy=True), methods=["POST"]),
        Route("/sandbox/messages", endpoint(messages, legacy=False), methods=["GET"]),
        Route("/sandbox/reports/dispatch", endpoint(dispatch, legacy=False), methods=["POST"]),
        *provider.inbound.routes(control),
        *provider.configs.routes(lambda handler: endpoint(handler, legacy=False)),
        *provider.clicks.routes(control),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.provider = provider
    return app
