"""The provider's own URL shortening and click reports.

A send that carries URL options (``options.tracking`` on the current endpoints, a message's
``urlOptions`` on WhatsApp's) has the URLs of its text (or WhatsApp template placeholders)
replaced by short links on the sandbox (``GET /s/<code>`` redirects). With ``trackClicks``
and a ``trackingUrl`` each click is posted there in Infobip's ``UrlTrackingWebhook`` shape,
retried like delivery reports. ``POST /control/click`` (``{"messageId", "position"}``) or the
handset page's "click" button taps a link as the recipient would.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ua_parser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.provider.envelope import error_response
from peoplesync.sandbox.provider.store import MessageStore, SandboxClick, SandboxLink

Handler = Callable[[Request], Awaitable[Response]]
CODE_LENGTH = 7
HANDSET_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class UrlOptions:
    """What a send asked of the provider's shortener (Infobip's ``UrlOptions``)."""

    shorten: bool
    track: bool
    tracking_url: str | None
    remove_protocol: bool


def url_options(raw: object) -> UrlOptions | None:
    """The options, with the documented defaults (shorten and track unless told not to)."""
    if not isinstance(raw, Mapping):
        return None
    url = raw.get("trackingUrl")
    return UrlOptions(
        shorten=raw.get("shortenUrl", True) is not False,
        track=raw.get("trackClicks", True) is not False,
        tracking_url=url if isinstance(url, str) and url else None,
        remove_protocol=raw.get("removeProtocol") is True,
    )


def new_code() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(CODE_LENGTH))


def shorten(
    text: str, base: str, start: int, code: Callable[[], str] = new_code
) -> tuple[str, list[tuple[int, str, str]]]:
    """``text`` with each URL replaced by ``base/s/<code>``; the links as (position, url,
    code), positions counted on from ``start``."""
    links: list[tuple[int, str, str]] = []

    def swap(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        made = code()
        links.append((start + len(links), url, made))
        return f"{base}/s/{made}{tail}"

    return _URL.sub(swap, text), links


def shorten_content(
    channel: str, message: Mapping[str, Any], base: str
) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:
    """The message with the URLs of its body shortened, and its links."""
    out = dict(message)
    links: list[tuple[int, str, str]] = []
    if channel == "whatsapp":
        content = dict(out.get("content") or {})
        data = dict(content.get("templateData") or {})
        body = dict(data.get("body") or {})
        items = []
        for item in body.get("placeholders") or []:
            if isinstance(item, str):
                item, found = shorten(item, base, len(links))
                links += found
            items.append(item)
        body["placeholders"] = items
        data["body"] = body
        content["templateData"] = data
        out["content"] = content
    else:
        content = dict(out.get("content") or {})
        if isinstance(content.get("text"), str):
            content["text"], links = shorten(content["text"], base, 0)
        out["content"] = content
    return out, links


def device_of(user_agent: str | None) -> dict[str, str]:
    """``recipientInfo``: the provider's reading of the clicking device."""
    text = (user_agent or "")[:500]
    if not text:
        return {"deviceType": "Unknown"}
    parsed = ua_parser.parse(text)
    os = parsed.os
    device = parsed.device
    if device is not None and device.family == "Spider":
        kind = "Bot"
    elif "iPad" in text or "Tablet" in text:
        kind = "Tablet"
    elif "Mobile" in text or (os is not None and os.family in ("iOS", "Android")):
        kind = "Phone"
    else:
        kind = "Desktop"
    info = {"deviceType": kind}
    if os is not None:
        info["os"] = f"{os.family} {os.major or ''}".strip()
    if device is not None and device.brand and not device.brand.startswith("Generic"):
        info["deviceName"] = device.brand
    return info


def click_payload(click: SandboxClick, callback_data: str | None, bulk_id: str) -> dict[str, Any]:
    """Infobip's ``UrlTrackingWebhook`` for one click."""
    payload: dict[str, Any] = {
        "notificationType": "CLICKED",
        "recipient": click.recipient,
        "url": click.url,
        "sendDateTime": int(click.clicked_at * 1000),
        "messageId": click.message_id,
        "bulkId": bulk_id,
        "recipientInfo": device_of(click.user_agent),
    }
    if callback_data is not None:
        payload["callbackData"] = callback_data
    return payload


class ClickControl:
    """Following short links, and tapping them from the control API or the handset page."""

    def __init__(self, store: MessageStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def follow(self, code: str, user_agent: str | None) -> SandboxLink | None:
        """The link behind ``code``; a tracked one's click is queued for its tracking URL."""
        link = await self._store.link(code)
        if link is not None and link.tracking_url:
            await self._store.add_click(link, self._clock(), user_agent)
        return link

    async def tap(self, message_id: object, position: object) -> SandboxLink | None:
        """Click link ``position`` (0 first) of a message as its recipient's phone."""
        if not isinstance(message_id, str) or isinstance(position, bool):
            return None
        if not isinstance(position, int):
            return None
        link = await self._store.link_of(message_id, position)
        if link is None:
            return None
        return await self.follow(link.code, HANDSET_AGENT)

    def routes(self, guard: Callable[[Handler], Handler]) -> list[Route]:
        async def short_link(request: Request) -> Response:
            code = request.path_params["code"]
            if request.method == "HEAD":  # a link checker or preview: no click
                link = await self._store.link(code)
            else:
                link = await self.follow(code, request.headers.get("user-agent"))
            if link is None:
                return HTMLResponse("<!doctype html><title>Not found</title>No such link", 404)
            return RedirectResponse(link.url, 302)

        async def control_click(request: Request) -> Response:
            body = _json(await request.body())
            if not isinstance(body, Mapping):
                body = {}
            link = await self.tap(body.get("messageId"), body.get("position", 0))
            if link is None:
                return error_response(
                    400,
                    legacy=False,
                    violations=[("messageId", "no short link at this position of this message")],
                )
            return JSONResponse(
                {"url": link.url, "code": link.code, "reported": link.tracking_url is not None}
            )

        async def handset_links(request: Request) -> Response:
            origin = request.headers.get("origin")
            if request.method == "POST":
                if origin and urlsplit(origin).netloc != request.url.netloc:
                    return error_response(403, legacy=False)
                form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
                position = form.get("position", "")
                link = await self.tap(
                    form.get("messageId"), int(position) if position.isdigit() else None
                )
                clicked = link.code if link else "none"
                return RedirectResponse(f"/handset/links?clicked={clicked}", 303)
            return HTMLResponse(await self._page(request.query_params.get("clicked")))

        return [
            Route("/s/{code}", short_link, methods=["GET"]),
            Route("/control/click", guard(control_click), methods=["POST"]),
            Route("/handset/links", guard(handset_links), methods=["GET", "POST"]),
        ]

    async def _page(self, clicked: str | None) -> str:
        recent = await self._store.recent(50)
        links = await self._store.links_of([m.message_id for m in recent]) if recent else []
        to = {m.message_id: m.recipient for m in recent}
        rows = "".join(
            f"<li>+{html.escape(to.get(k.message_id, ''))}: {html.escape(k.url)} "
            '<form method="post" action="/handset/links" style="display:inline">'
            f'<input type="hidden" name="messageId" value="{html.escape(k.message_id)}">'
            f'<input type="hidden" name="position" value="{k.position}">'
            f'<button type="submit">Click</button></form>'
            f"{'' if k.tracking_url else ' <small>(not tracked)</small>'}</li>"
            for k in links
        )
        status = f'<p role="status">clicked {html.escape(clicked)}</p>' if clicked else ""
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Links - sandbox provider</title></head><body><h1>Short links</h1>"
            '<p>Tap a link of a recent message as its recipient. <a href="/handset">Replies</a>'
            f"</p>{status}<ul>{rows or '<li>none yet</li>'}</ul></body></html>"
        )


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
