"""The Streaming API: a Bayeux (CometD) long-polling server for Change Data Capture channels."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, json_response
from peoplesync.sandbox.salesforce.auth import SessionError
from peoplesync.sandbox.salesforce.events import ALL_CHANGES, ChangeEventLog, channel_of

CLIENT_IDLE_SECONDS = 40.0 + 110.0


@dataclass
class _Client:
    cursors: dict[str, int] = field(default_factory=dict)  # channel -> last replay id delivered
    seen: float = field(default_factory=time.monotonic)


def routes(ctx: ApiContext, log: ChangeEventLog) -> list[Route]:
    """Routes for /cometd/{version}."""
    clients: dict[str, _Client] = {}
    schema = ctx.records.schema

    def entities_of(channel: str) -> set[str] | None:
        if channel == ALL_CHANGES:
            return None
        for meta in schema.objects.values():
            if channel == channel_of(meta.name):
                return {meta.name}
        raise KeyError(channel)

    def reply(message: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"channel": message.get("channel"), "id": message.get("id"), **fields}
        if "clientId" in message:
            body["clientId"] = message["clientId"]
        return body

    def failure(
        message: dict[str, Any], error: str, reconnect: str | None = None
    ) -> dict[str, Any]:
        body = reply(message, successful=False, error=error)
        if reconnect:
            body["advice"] = {"reconnect": reconnect, "interval": 0}
        return body

    async def subscribe(message: dict[str, Any], client: _Client) -> dict[str, Any]:
        channel = str(message.get("subscription", ""))
        try:
            entities_of(channel)
        except KeyError:
            return failure(
                message,
                f"400::The channel you requested to subscribe to does not exist {{{channel}}}",
            )
        replay = ((message.get("ext") or {}).get("replay") or {}).get(channel, -1)
        earliest, latest = await log.bounds()
        if replay == -1:
            cursor = latest
        elif replay == -2:
            cursor = earliest - 1
        elif isinstance(replay, int) and earliest - 1 <= replay <= latest:
            cursor = replay
        else:
            return failure(
                message,
                f"400::The replayId {{{replay}}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.",
            )
        client.cursors[channel] = cursor
        return reply(message, successful=True, subscription=channel)

    async def deliver(client: _Client) -> list[dict[str, Any]]:
        messages = []
        for channel, cursor in list(client.cursors.items()):
            for replay_id, _, body in await log.after(cursor, entities_of(channel)):
                messages.append(
                    {
                        "channel": channel,
                        "data": {
                            "schema": "peoplesync-sandbox",
                            "payload": body,
                            "event": {"replayId": replay_id},
                        },
                    }
                )
                client.cursors[channel] = max(client.cursors[channel], replay_id)
        return messages

    async def connect(message: dict[str, Any], client: _Client) -> list[dict[str, Any]]:
        events = await deliver(client)
        if not events and client.cursors:
            await log.wait(ctx.config.streaming_timeout_seconds)
            events = await deliver(client)
        client.seen = time.monotonic()
        timeout_ms = int(ctx.config.streaming_timeout_seconds * 1000)
        return [
            *events,
            reply(
                message,
                successful=True,
                advice={"reconnect": "retry", "interval": 0, "timeout": timeout_ms},
            ),
        ]

    async def endpoint(request: Request) -> Response:
        try:
            raw = json.loads(await request.body() or b"[]")
        except ValueError:
            return json_response([{"successful": False, "error": "400::Invalid JSON"}], 400)
        messages = raw if isinstance(raw, list) else [raw]
        try:
            await ctx.auth.authenticate(request)
            authenticated = True
        except SessionError:
            authenticated = False
        now = time.monotonic()
        for stale in [k for k, c in clients.items() if now - c.seen > CLIENT_IDLE_SECONDS]:
            clients.pop(stale, None)
        replies: list[dict[str, Any]] = []
        for message in messages:
            channel = message.get("channel")
            if not authenticated:
                replies.append(failure(message, "401::Authentication invalid", "none"))
                continue
            if channel == "/meta/handshake":
                client_id = secrets.token_hex(16)
                clients[client_id] = _Client()
                replies.append(
                    {
                        "channel": channel,
                        "id": message.get("id"),
                        "version": "1.0",
                        "minimumVersion": "1.0",
                        "supportedConnectionTypes": ["long-polling"],
                        "clientId": client_id,
                        "successful": True,
                        "ext": {"replay": True, "payload.format": True},
                        "advice": {
                            "reconnect": "retry",
                            "interval": 0,
                            "timeout": int(ctx.config.streaming_timeout_seconds * 1000),
                        },
                    }
                )
                continue
            client = clients.get(str(message.get("clientId")))
            if client is None:
                replies.append(failure(message, "403::Unknown client", "handshake"))
                continue
            client.seen = time.monotonic()
            if channel == "/meta/subscribe":
                replies.append(await subscribe(message, client))
            elif channel == "/meta/unsubscribe":
                client.cursors.pop(str(message.get("subscription")), None)
                replies.append(
                    reply(message, successful=True, subscription=message.get("subscription"))
                )
            elif channel == "/meta/connect":
                replies += await connect(message, client)
            elif channel == "/meta/disconnect":
                clients.pop(str(message.get("clientId")), None)
                replies.append(reply(message, successful=True))
            else:
                replies.append(failure(message, f"400::Unknown message channel {channel}"))
        return json_response(replies)

    return [
        Route("/cometd/{version}", endpoint, methods=["POST"]),
        Route("/cometd/{version}/{rest:path}", endpoint, methods=["POST"]),
    ]
