"""The activity endpoints of each business unit: ``/journey/<unit>/<activity>/...``.

``config.json`` is built per request from the host it was asked on. ``save``, ``validate``,
``publish`` and ``stop`` check the signature and answer ``{}``. ``execute`` on the Message
activity reads the call, plans it and enqueues the message (the provider is called later by
the sender), then answers 200 with ``messageStatus`` and ``messageId``: a bad request comes
back as an error status, never as an ejected contact. Only a body that fails its signature
check is answered 401, and one that is not a Journey Builder call at all 400. A retried call
(same activity and journey run) finds its message and answers the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from peoplesync.errors import BadSignatureError, JourneyRequestError, NotFoundError
from peoplesync.marketing_cloud.config_json import ActivityKind, config_json
from peoplesync.marketing_cloud.custom_row_reader import CustomRowReader
from peoplesync.marketing_cloud.execute import out_arguments, parse_execute, plan_message
from peoplesync.marketing_cloud.report_answer import click_answer, delivery_answer
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.signed_body import read_body
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.channels.catalog import (
    CALLBACK_DATA_LIMIT,
    CHANNEL_LABELS,
    RESERVED_CALLBACK_KEYS,
    Channel,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict
from peoplesync.messaging.enqueue_batcher import EnqueueBatcher
from peoplesync.messaging.journey_stop import SendsStoppedError
from peoplesync.messaging.outbox import Outbox
from peoplesync.web.journey.custom_row import with_custom_row
from peoplesync.web.journey.report_lookup import clicks, delivery_facts
from peoplesync.web.journey.unit_cache import UnitCache

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_BODY = 1_000_000
LIFECYCLE = ("save", "validate", "publish", "stop")
REPORT_PAGES = {
    ActivityKind.REPORTS: {
        "title": "Reports",
        "explain": "Later steps read statusName, statusGroupName, errorName, doneAt, sentAt, "
        "seenAt and seen (SEEN / NOT_SEEN), or url (NOT_CLICKED without a click).",
    },
    ActivityKind.DELIVERY_SPLIT: {
        "title": "Delivery split",
        "explain": "Routes each contact to DELIVERED, UNDELIVERABLE, REJECTED, EXPIRED or "
        "NOT_AVAILABLE (no final report yet).",
    },
    ActivityKind.CLICK_SPLIT: {
        "title": "Click split",
        "explain": "Routes each contact to CLICKED or NOT_CLICKED.",
    },
}
MARKETING_CLOUD_ORIGINS = ("https://*.exacttarget.com", "https://*.marketingcloudapps.com")
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" '
    'rx="8" fill="#2f5d8a"/><path d="M9 13h22v12H17l-6 5v-5H9z" fill="#fff"/></svg>'
)


@dataclass(frozen=True)
class JourneyServices:
    """What the activity routes need: business units, the message queue, provider accounts."""

    units: BusinessUnits
    outbox: Outbox
    accounts: ProviderAccounts
    stop_sends: Callable[[str], Awaitable[int]]  # a stopped journey's send key takes no more
    frame_ancestors: str = ""  # extra origins allowed to frame the configuration pages
    marks: ReportMarks | None = None  # where a journey's triggerEventOnResponse is kept
    rows: CustomRowReader | None = None  # the activities' custom data extensions
    cache: UnitCache = field(init=False)
    batcher: EnqueueBatcher = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", UnitCache(self.units))
        object.__setattr__(self, "batcher", EnqueueBatcher(self.outbox))


def _services(request: Request) -> JourneyServices:
    services: JourneyServices | None = request.app.state.journey
    if services is None:  # create_app was given no secret key: nothing can be opened
        raise NotFoundError("Journey Builder endpoints are not configured on this server")
    return services


def _kind(value: str) -> ActivityKind | None:
    try:
        return ActivityKind(value)
    except ValueError:
        return None


async def _unit(request: Request, name: str) -> UnitKeys | None:
    return await _services(request).cache.keys(name)


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": f"no such {what}"}, status_code=404)


@router.get("/journey/{unit}/{activity}/config.json")
async def activity_config(request: Request, unit: str, activity: str) -> Response:
    kind = _kind(activity)
    if kind is None:
        return _not_found("activity")
    if await _unit(request, unit) is None:
        return _not_found("business unit")
    return JSONResponse(config_json(str(request.base_url), unit, kind))


@router.get("/journey/{unit}/{activity}/ui")
async def activity_ui(request: Request, unit: str, activity: str) -> Response:
    """An activity's configuration page, framed by Journey Builder."""
    kind = _kind(activity)
    if kind is None:
        return _not_found("activity")
    keys = await _unit(request, unit)
    if keys is None:
        return _not_found("business unit")
    services = _services(request)
    template = "journey_message.html"
    data: dict[str, Any] = {
        "unit": unit,
        "channels": [{"value": c.value, "label": CHANNEL_LABELS[c]} for c in Channel],
        "accounts": [account.name for account in await services.accounts.list()],
        "default_account": keys.info.default_account,
        "short_domain": keys.info.short_domain,
        "reserved_callback_keys": sorted(RESERVED_CALLBACK_KEYS),
        "callback_limit": CALLBACK_DATA_LIMIT,
    }
    if kind is not ActivityKind.MESSAGE:
        template = "journey_reports.html"
        data = {"unit": unit, "kind": kind.value} | REPORT_PAGES[kind]
    ancestors = " ".join(("'self'", *MARKETING_CLOUD_ORIGINS, services.frame_ancestors)).strip()
    response: Response = request.app.state.web.templates.TemplateResponse(
        request, template, {"data": data}
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors {ancestors}; form-action 'self'; base-uri 'none'"
    )
    return response


@router.get("/journey/{unit}/{activity}/icon.svg")
async def activity_icon(activity: str) -> Response:
    if _kind(activity) is None:
        return _not_found("activity")
    return Response(ICON, media_type="image/svg+xml")


@router.post("/journey/{unit}/{activity}/{step}")
async def activity_call(request: Request, unit: str, activity: str, step: str) -> Response:
    kind = _kind(activity)
    if kind is None or step not in (*LIFECYCLE, "execute"):
        return _not_found("activity endpoint")
    keys = await _unit(request, unit)
    if keys is None:
        return _not_found("business unit")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return JSONResponse({"error": "the body is over 1 MB"}, status_code=413)
    try:
        body = read_body(raw, request.headers.get("content-type"), keys.signing_keys)
    except BadSignatureError as error:
        log.warning("journey %s %s/%s refused: %s", unit, activity, step, error.message)
        return JSONResponse({"error": error.message}, status_code=401)
    except JourneyRequestError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    if step in LIFECYCLE:
        activity_id = body.get("activityObjectID")
        log.info("journey %s %s/%s for activity %s", unit, activity, step, activity_id)
        journey = body.get("interactionId")
        if step == "stop" and kind is ActivityKind.MESSAGE and activity_id and journey:
            # Messages already queued keep going at their slots; new ones are refused.
            left = await _services(request).stop_sends(f"{journey}:{activity_id}")
            log.info("journey %s stopped: %d queued messages still go", journey, left)
        return JSONResponse({})
    try:
        if kind is ActivityKind.MESSAGE:
            return JSONResponse(await _send(request, keys, body))
        return JSONResponse(await _report(request, kind, body))
    except JourneyRequestError as error:
        log.warning("journey %s %s/execute unreadable: %s", unit, activity, error)
        return JSONResponse({"error": str(error)}, status_code=400)


async def _send(request: Request, keys: UnitKeys, body: dict[str, Any]) -> dict[str, str]:
    call = await with_custom_row(_services(request).rows, keys, parse_execute(body))
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
        queued = await _services(request).batcher.enqueue(
            plan.draft, limit=plan.limit, limit_key=plan.limit_key
        )
    except SendsStoppedError:
        return out_arguments(MessageStatus.JOURNEY_STOPPED.value, None)
    marks = _services(request).marks
    if plan.trigger_event and marks is not None and queued.message_id:
        await marks.remember_trigger(queued.message_id)
    return out_arguments(queued.status, queued.message_id)


async def _report(request: Request, kind: ActivityKind, body: dict[str, Any]) -> dict[str, str]:
    call = parse_execute(body)
    message_id = str(call.arguments.get("messageId") or "")
    events = await _services(request).outbox.events(message_id) if message_id else []
    wants_clicks = kind is ActivityKind.CLICK_SPLIT or call.arguments.get("report") == "clicks"
    if wants_clicks:
        url = call.arguments.get("url")
        answer = click_answer(clicks(events), url if isinstance(url, str) and url else None)
    else:
        answer = delivery_answer(delivery_facts(events))
    if kind in (ActivityKind.DELIVERY_SPLIT, ActivityKind.CLICK_SPLIT):
        return {"branchResult": answer["branchResult"]}
    return {key: value for key, value in answer.items() if key != "branchResult"}
