"""The activity pages of each business unit: ``/journey/<unit>/<activity>/...``.

``config.json`` is built per request from the host it was asked on; ``ui`` is the activity's
configuration page, ``icon.svg`` its icon. Journey Builder's POSTs (``save``, ``validate``,
``publish``, ``stop``, ``execute``) are answered in plain ASGI by ``journey/calls.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from peoplesync.errors import NotFoundError
from peoplesync.marketing_cloud.config_json import ActivityKind, config_json, split_unit
from peoplesync.marketing_cloud.custom_row_reader import CustomRowReader
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.channels.catalog import (
    CALLBACK_DATA_LIMIT,
    CHANNEL_LABELS,
    RESERVED_CALLBACK_KEYS,
    Channel,
)
from peoplesync.messaging.enqueue_batcher import EnqueueBatcher
from peoplesync.messaging.outbox import Outbox
from peoplesync.web.journey.unit_cache import UnitCache

router = APIRouter(include_in_schema=False)
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


async def _unit(request: Request, segment: str) -> UnitKeys | None:
    """The unit a path's segment names (``<unit>`` or ``<unit>~<customerKey>``); None when
    there is no such unit, or it has no salt key by that name."""
    name, customer_key = split_unit(segment)
    keys = await _services(request).cache.keys(name)
    if keys is None or keys.keys_for(customer_key) is None:
        return None
    return keys


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": f"no such {what}"}, status_code=404)


@router.get("/journey/{unit}/{activity}/config.json")
async def activity_config(request: Request, unit: str, activity: str) -> Response:
    kind = _kind(activity)
    if kind is None:
        return _not_found("activity")
    if await _unit(request, unit) is None:
        return _not_found("business unit (or salt key of it)")
    name, customer_key = split_unit(unit)
    return JSONResponse(config_json(str(request.base_url), name, kind, customer_key=customer_key))


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
