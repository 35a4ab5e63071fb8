"""Journey Builder's POSTs (``/journey/<unit>/<activity>/<step>``) answered in plain ASGI.

Journey Builder calls ``execute`` once per contact, thousands a second on a big journey, so
these calls skip FastAPI's routing, dependency solving and response classes: ``JourneyCalls``
sits inside the app's guards (security headers, storable input) and answers a POST whose path
has exactly those four parts itself; every other request goes on to the routes.

``save``, ``validate``, ``publish`` and ``stop`` check the signature and answer ``{}``.
``execute`` on the Message activity reads the call, plans it and enqueues the message (the
provider is called later by the sender), then answers 200 with ``messageStatus`` and
``messageId``: a bad request comes back as an error status, never as an ejected contact.
Only a body that fails its signature check is answered 401, and one that is not a Journey
Builder call at all 400. An activity whose ``config.json`` names a ``customerKey`` (a Key
Management salt key) is registered under ``/journey/<unit>~<customerKey>/<activity>/``: its
calls are verified with that one salt key of the unit, and answered 401 when the unit has no
key by that name. A retried call (same activity and journey run) finds its message and
answers the same.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from peoplesync.errors import (
    BadSignatureError,
    JourneyRequestError,
    NotFoundError,
    PeopleSyncError,
)
from peoplesync.marketing_cloud.config_json import ActivityKind, split_unit
from peoplesync.marketing_cloud.execute import out_arguments, parse_execute, plan_message
from peoplesync.marketing_cloud.report_answer import click_answer, delivery_answer
from peoplesync.marketing_cloud.signed_body import read_body
from peoplesync.marketing_cloud.units import UnitKeys
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict
from peoplesync.messaging.journey_stop import SendsStoppedError
from peoplesync.web.error_bodies import from_error
from peoplesync.web.journey.custom_row import with_custom_row
from peoplesync.web.journey.report_lookup import clicks, delivery_facts
from peoplesync.web.journey.routes import JourneyServices

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
LIFECYCLE = ("save", "validate", "publish", "stop")
_KINDS = {kind.value: kind for kind in ActivityKind}
_Answer = tuple[int, dict[str, Any]]


class JourneyCalls:
    """Answers POST ``/journey/<unit>/<activity>/<step>`` from ``app.state.journey``; passes
    every other request to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        parts = scope["path"].split("/")
        if len(parts) != 5 or parts[1] != "journey" or not all(parts[2:]):
            await self.app(scope, receive, send)
            return
        services: JourneyServices | None = scope["app"].state.journey
        content_type: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break  # the first, as Starlette's headers answer
        try:
            raw = await _body(receive)
        except _ClientGone:
            return  # nobody to answer
        try:
            if services is None:
                raise NotFoundError("Journey Builder endpoints are not configured on this server")
            if raw is None:
                status, answer = 413, {"error": "the body is over 1 MB"}
            else:
                status, answer = await journey_call(
                    services,
                    parts[2],
                    parts[3],
                    parts[4],
                    raw,
                    content_type,
                )
        except PeopleSyncError as error:  # as the app's handler answers them, in JSON
            body = from_error(error)
            status, answer = body.status, body.json()
        await _answer(send, status, answer)


async def journey_call(
    services: JourneyServices,
    unit: str,
    activity: str,
    step: str,
    raw: bytes,
    content_type: str | None,
) -> _Answer:
    """The status and JSON answer of one Journey Builder call; ``unit`` is the path's
    segment, ``<unit>~<customerKey>`` for an activity signing with a named salt key."""
    kind = _KINDS.get(activity)
    if kind is None or step not in (*LIFECYCLE, "execute"):
        return 404, {"error": "no such activity endpoint"}
    unit, customer_key = split_unit(unit)
    keys = await services.cache.keys(unit)
    if keys is None:
        return 404, {"error": "no such business unit"}
    signing = keys.keys_for(customer_key)
    if signing is None:
        log.warning(
            "journey %s %s/%s refused: no salt key named %r", unit, activity, step, customer_key
        )
        return 401, {"error": f"the business unit has no salt key named {customer_key!r}"}
    try:
        body = read_body(raw, content_type, signing)
    except BadSignatureError as error:
        log.warning("journey %s %s/%s refused: %s", unit, activity, step, error.message)
        return 401, {"error": error.message}
    except JourneyRequestError as error:
        return 400, {"error": str(error)}
    if step in LIFECYCLE:
        activity_id = body.get("activityObjectID")
        log.info("journey %s %s/%s for activity %s", unit, activity, step, activity_id)
        journey = body.get("interactionId")
        if step == "stop" and kind is ActivityKind.MESSAGE and activity_id and journey:
            # Messages already queued keep going at their slots; new ones are refused.
            left = await services.stop_sends(f"{journey}:{activity_id}")
            log.info("journey %s stopped: %d queued messages still go", journey, left)
        return 200, {}
    try:
        if kind is ActivityKind.MESSAGE:
            return 200, await _send(services, keys, body)
        return 200, await _report(services, kind, body)
    except JourneyRequestError as error:
        log.warning("journey %s %s/execute unreadable: %s", unit, activity, error)
        return 400, {"error": str(error)}


async def _send(services: JourneyServices, keys: UnitKeys, body: dict[str, Any]) -> dict[str, str]:
    call = await with_custom_row(services.rows, keys, parse_execute(body))
    if isinstance(call, Verdict):
        log.info("journey %s contact: %s (%s)", keys.info.name, call.status.value, call.detail)
        return out_arguments(call.status.value, None)
    plan = plan_message(call, mid=keys.info.mid, default_account=keys.info.default_account)
    if plan.draft is None:
        refusal = plan.refusal
        status = refusal.status.value if refusal else "Error: Invalid request"
        log.info(
            "journey %s activity %s contact %s: %s (%s)",
            keys.info.name,
            call.activity_id,
            call.contact_key,
            status,
            refusal.field if refusal else "",
        )
        return out_arguments(status, None)
    try:
        queued = await services.batcher.enqueue(
            plan.draft, limit=plan.limit, limit_key=plan.limit_key
        )
    except SendsStoppedError:
        return out_arguments(MessageStatus.JOURNEY_STOPPED.value, None)
    if plan.trigger_event and services.marks is not None and queued.message_id:
        await services.marks.remember_trigger(queued.message_id)
    return out_arguments(queued.status, queued.message_id)


async def _report(
    services: JourneyServices, kind: ActivityKind, body: dict[str, Any]
) -> dict[str, str]:
    call = parse_execute(body)
    message_id = str(call.arguments.get("messageId") or "")
    events = await services.outbox.events(message_id) if message_id else []
    wants_clicks = kind is ActivityKind.CLICK_SPLIT or call.arguments.get("report") == "clicks"
    if wants_clicks:
        url = call.arguments.get("url")
        answer = click_answer(clicks(events), url if isinstance(url, str) and url else None)
    else:
        answer = delivery_answer(delivery_facts(events))
    if kind in (ActivityKind.DELIVERY_SPLIT, ActivityKind.CLICK_SPLIT):
        return {"branchResult": answer["branchResult"]}
    return {key: value for key, value in answer.items() if key != "branchResult"}


class _ClientGone(Exception):
    """The client disconnected before its body was read."""


async def _body(receive: Receive) -> bytes | None:
    """The request body, or None once it is over ``MAX_BODY`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, answer: dict[str, Any]) -> None:
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = ["JourneyCalls", "journey_call"]
