"""Replies from handsets (MO): the control endpoint, the handset page and the MO payload.

``POST /control/inbound`` (``{"from", "to", "text"}``) or the form on ``GET /handset`` stores
a reply; the report loop posts it to the number's inbound configuration (``inbound_configs``)
or else to the MO URL (``PUT /control/mo-url``, or ``--mo-url``) in
Infobip's inbound SMS shape (renderer MO_JSON_2), retried like delivery reports when the
receiver fails. A first word in capitals (``QUIZ Paris``) is the reply's keyword.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.provider.envelope import error_response
from peoplesync.sandbox.provider.store import GAVE_UP, SENT, InboundReply, MessageStore

Handler = Callable[[Request], Awaitable[Response]]
MO_URL = "mo_url"
TEXT_LIMIT = 1600
_KEYWORD = re.compile(r"^([A-Z]{2,20})(?:\s+(.*))?$", re.DOTALL)
_NUMBER = re.compile(r"^\d{3,20}$")


def keyword_of(text: str) -> tuple[str | None, str]:
    """(keyword, clean text): ``QUIZ Correct answer is Paris`` -> ``QUIZ``, the rest."""
    match = _KEYWORD.match(text.strip())
    if match is None:
        return None, text
    return match.group(1), match.group(2) or ""


def inbound_payload(reply: InboundReply, received_at: str) -> dict[str, Any]:
    """The webhook body for one reply (``received_at`` already in the provider's form)."""
    keyword, clean = keyword_of(reply.text)
    entry: dict[str, Any] = {
        "messageId": reply.message_id,
        "from": reply.sender,
        "to": reply.recipient,
        "text": reply.text,
        "cleanText": clean,
        "receivedAt": received_at,
        "smsCount": 1 if len(reply.text) <= 160 else -(-len(reply.text) // 153),
        "price": {"pricePerMessage": 0.0, "currency": "EUR"},
    }
    if keyword is not None:
        entry["keyword"] = keyword
    return {"results": [entry], "messageCount": 1, "pendingMessageCount": 0}


def check_reply(body: object) -> list[tuple[str, str]]:
    """Violations of a control request, as (property, message)."""
    if not isinstance(body, Mapping):
        return [("body", "must be an object with from, to and text")]
    out = []
    for name in ("from", "to"):
        value = body.get(name)
        if not isinstance(value, str) or not _NUMBER.match(value.lstrip("+")):
            out.append((name, "must be a phone number of 3 to 20 digits"))
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        out.append(("text", "must not be blank"))
    elif len(text) > TEXT_LIMIT:
        out.append(("text", f"size must be between 1 and {TEXT_LIMIT}"))
    return out


class InboundControl:
    """The routes that make handsets reply."""

    def __init__(
        self,
        store: MessageStore,
        clock: Callable[[], float],
        default_url: str | None,
        *,
        forward_url: Callable[[str], Awaitable[str | None]] | None = None,
    ):
        self._store = store
        self._clock = clock
        self._default_url = default_url
        self._forward_url = forward_url  # the number's own inbound configuration, if any

    async def mo_url(self) -> str | None:
        return await self._store.setting(MO_URL) or self._default_url

    async def reply(self, body: object) -> tuple[InboundReply | None, list[tuple[str, str]]]:
        violations = check_reply(body)
        url = None
        if not violations and isinstance(body, Mapping) and self._forward_url is not None:
            url = await self._forward_url(str(body["to"]).lstrip("+"))
        url = url or await self.mo_url()
        if url is None:
            violations.append(("moUrl", "no MO URL is configured: PUT /control/mo-url first"))
        if violations or not isinstance(body, Mapping) or url is None:
            return None, violations
        reply = InboundReply(
            message_id=str(uuid.uuid4()),
            sender=body["from"].lstrip("+"),
            recipient=body["to"].lstrip("+"),
            text=body["text"],
            received_at=self._clock(),
            url=url,
        )
        await self._store.add_inbound(reply)
        return reply, []

    def routes(self, guard: Callable[[Handler], Handler]) -> list[Route]:
        async def control_inbound(request: Request) -> Response:
            reply, violations = await self.reply(_json(await request.body()))
            if reply is None:
                return error_response(400, legacy=False, violations=violations)
            return JSONResponse({"messageId": reply.message_id, "status": "QUEUED"})

        async def control_mo_url(request: Request) -> Response:
            if request.method == "PUT":
                body = _json(await request.body())
                url = body.get("url") if isinstance(body, Mapping) else None
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    return error_response(
                        400, legacy=False, violations=[("url", "must be an http(s) URL")]
                    )
                await self._store.set_setting(MO_URL, url)
            return JSONResponse({"configured": await self.mo_url() is not None})

        async def handset(request: Request) -> Response:
            notice = ""
            origin = request.headers.get("origin")
            if (
                request.method == "POST"
                and origin
                and urlsplit(origin).netloc != request.url.netloc
            ):
                # A browser sends the Basic credentials to any page's form: only our own counts.
                return error_response(403, legacy=False)
            if request.method == "POST":
                form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
                reply, violations = await self.reply(form)
                if reply is not None:
                    return RedirectResponse(f"/handset?sent={reply.message_id}", 303)
                notice = "; ".join(f"{p}: {m}" for p, m in violations)
            return HTMLResponse(await self._page(request.query_params.get("sent"), notice))

        return [
            Route("/control/inbound", guard(control_inbound), methods=["POST"]),
            Route("/control/mo-url", guard(control_mo_url), methods=["GET", "PUT"]),
            Route("/handset", guard(handset), methods=["GET", "POST"]),
        ]

    async def _page(self, sent: str | None, notice: str) -> str:
        recent = await self._store.recent(50)
        numbers = list(dict.fromkeys(m.recipient for m in recent))
        ours = next((m.sender for m in recent if m.sender and m.sender.isdigit()), "")
        options = "".join(
            f'<option value="{html.escape(n)}">+{html.escape(n)}</option>' for n in numbers
        )
        replies = "".join(
            f"<li>+{html.escape(r.sender)} &rarr; +{html.escape(r.recipient)}: "
            f"{html.escape(r.text)} <small>({_state(r)})</small></li>"
            for r in await self._store.recent_inbound()
        )
        status = f'<p role="status">sent {html.escape(sent)}</p>' if sent else ""
        error = f'<p role="alert">{html.escape(notice)}</p>' if notice else ""
        mo = "configured" if await self.mo_url() else "not configured (PUT /control/mo-url)"
        return _PAGE.format(
            status=status,
            error=error,
            options=options,
            ours=html.escape(ours),
            mo=mo,
            replies=replies or "<li>none yet</li>",
        )


def _state(reply: InboundReply) -> str:
    if reply.state == SENT:
        return "posted"
    if reply.state == GAVE_UP:
        return f"given up after {reply.attempts} attempts"
    return f"waiting, {reply.attempts} failed attempts" if reply.attempts else "waiting"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handset - sandbox provider</title>
<style>body{{font-family:sans-serif;max-width:36rem;margin:2rem auto}}
label{{display:block;margin-top:.8rem}} textarea,select,input{{width:100%}}</style></head>
<body><h1>Handset</h1>
<p>Reply to a message as its recipient. The reply goes to the MO URL ({mo}).
<a href="/handset/links">Tap a short link</a></p>
{status}{error}
<form method="post" action="/handset">
<label for="from">From (the handset)</label>
<input id="from" name="from" list="numbers" required placeholder="385911234567">
<datalist id="numbers">{options}</datalist>
<label for="to">To (the number the message came from)</label>
<input id="to" name="to" value="{ours}" required>
<label for="text">Reply</label>
<textarea id="text" name="text" rows="3" maxlength="1600" required></textarea>
<p><button type="submit">Send reply</button></p>
</form>
<h2>Replies</h2><ul>{replies}</ul>
</body></html>
"""
