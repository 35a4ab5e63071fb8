"""Receivers of provider reports: ``POST /hooks/messaging/{account}/delivery``, ``/seen``,
``/inbound`` (replies from handsets, MO) and ``/click`` (clicks on the provider's own short
links: Infobip's URL tracking report, one object a click).

A provider cannot log in, so each account's URLs carry a token derived from peoplesync's
secret key (see ``messaging.hook_urls``). A missing or wrong token answers 401 and is logged
without the token. A readable payload answers 200 with what was applied; its unreadable
entries are logged by entry and field (a provider would only post them again). Delivery,
seen and click reports apply only to messages sent through the URL's account: the token of
one account cannot report on another's messages; those are counted as ``rejected``, named in
``rejected_message_ids`` and logged, and nothing of them is stored.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from peoplesync.messaging.click_reports import parse_click_reports
from peoplesync.messaging.hook_urls import KINDS, token_matches
from peoplesync.messaging.inbound import parse_inbound
from peoplesync.messaging.inbound_store import InboundApplied, InboundStore
from peoplesync.messaging.links.provider_clicks import ProviderClicks
from peoplesync.messaging.report_store import ReportsApplied, ReportStore
from peoplesync.messaging.reports import Parsed, parse_delivery_reports, parse_seen_reports
from peoplesync.secret_box import SecretBox

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_BODY = 5_000_000
_TOKEN = re.compile(r"(token=)[^&\s\"]*")


@dataclass(frozen=True)
class MessagingHooks:
    """What the receivers need: the key the tokens derive from, and where reports go."""

    box: SecretBox | None
    reports: ReportStore
    inbound: InboundStore
    clicks: ProviderClicks


class RedactTokens(logging.Filter):
    """Hides ``token=...`` in log lines (uvicorn's access log prints the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1<hidden>", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN.sub(r"\1<hidden>", record.msg)
        return True


def _error(status: int, message: str, hint: str) -> JSONResponse:
    return JSONResponse({"error": message, "hint": hint}, status_code=status)


@router.post("/hooks/messaging/{account}/{kind}")
async def receive_report(
    request: Request,
    account: str,
    kind: str,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    hooks: MessagingHooks = request.app.state.messaging_hooks
    if kind not in KINDS:
        return _error(404, f"no report kind {kind!r}", "use /delivery, /seen, /inbound or /click")
    if hooks.box is None:
        return _error(503, "report receivers are not configured", "run peoplesync serve")
    if not token_matches(hooks.box, account, token):
        log.warning(
            "messaging %s report for account %r refused: %s token",
            kind,
            account[:100],
            "missing" if not token else "wrong",
        )
        return _error(
            401,
            "missing or wrong token",
            "use the URLs printed by: peoplesync messages webhooks --public-url URL",
        )
    raw = await request.body()
    try:
        if len(raw) > MAX_BODY:
            raise ValueError("too large")
        body: Any = json.loads(raw)
    except ValueError:
        return _error(400, "the report body is not JSON (or over 5 MB)", 'send {"results": [...]}')
    parsed: Parsed[Any]
    if kind == "inbound":
        parsed = parse_inbound(body)
        replies = await hooks.inbound.apply(account[:100], parsed.reports)
        _log_errors(kind, account, parsed)
        return JSONResponse(_replies(replies) | {"errors": [str(e) for e in parsed.errors]})
    if kind == "click":
        parsed = parse_click_reports(body)
        clicks = await hooks.clicks.apply(parsed.reports, account)
        _log_errors(kind, account, parsed)
        _log_rejected(kind, account, clicks.rejected)
        return JSONResponse(
            {
                "stored": clicks.stored,
                "duplicates": clicks.duplicates,
                "unknown": clicks.unknown,
                **_rejected(clicks.rejected),
                "errors": [str(e) for e in parsed.errors],
            }
        )
    if kind == "delivery":
        parsed = parse_delivery_reports(body)
        done = await hooks.reports.apply_delivery(parsed.reports, account)
    else:
        parsed = parse_seen_reports(body)
        done = await hooks.reports.apply_seen(parsed.reports, account)
    _log_errors(kind, account, parsed)
    _log_rejected(kind, account, done.rejected)
    return JSONResponse(_summary(done) | {"errors": [str(e) for e in parsed.errors]})


def _log_errors(kind: str, account: str, parsed: Parsed[Any]) -> None:
    for error in parsed.errors:
        log.warning("messaging %s report for account %r: %s", kind, account[:100], error)


def _rejected(ids: Sequence[str]) -> dict[str, Any]:
    """Reports for messages not sent through the URL's account: counted and named."""
    return {"rejected": len(ids), "rejected_message_ids": [each[:64] for each in ids[:100]]}


def _log_rejected(kind: str, account: str, ids: Sequence[str]) -> None:
    if ids:
        log.warning(
            "messaging %s report for account %r: %d report(s) for messages not sent through "
            "it rejected (%s)",
            kind,
            account[:100],
            len(ids),
            ", ".join(each[:64] for each in ids[:10]),
        )


def _replies(done: InboundApplied) -> dict[str, Any]:
    return {
        "stored": len(done.stored),
        "duplicates": done.duplicates,
        "replies": [
            {
                "id": r.id,
                "messageId": r.message_id,
                "person_id": r.person_id,
                "in_reply_to": r.in_reply_to,
            }
            for r in done.stored
        ],
    }


def _summary(done: ReportsApplied) -> dict[str, Any]:
    return {
        "applied": done.applied,
        "duplicates": done.duplicates,
        "unknown": done.unknown,
        "pending": done.pending,
        **_rejected(done.rejected),
    }
