"""``GET /{code}``: a short link redirects (302) to its long URL; a tracked one records the click.

The route sits at the root, so it is registered after every other route and only matches a
code's shape (``messaging.links.codes``: eight letters and digits with at least one digit),
which no page path has: ``/people``, ``/login`` and the rest are never shadowed. An unknown
code gets the app's 404 page. A HEAD request is answered the same way without counting a
click.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from peoplesync.messaging.links.codes import CODE_PATTERN
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.web.access import WebContext
from peoplesync.web.error_bodies import ErrorBody


class ShortCodeConvertor(Convertor[str]):
    """Matches a short-link code and nothing else."""

    regex = CODE_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("shortcode", ShortCodeConvertor())
router = APIRouter(include_in_schema=False)


def location(url: str) -> str:
    """The URL as a Location header carries it: IDNA host, percent-encoded path and query."""
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL:
        return url  # stored URLs come from message bodies; RedirectResponse quotes the rest


@router.api_route("/{code:shortcode}", methods=["GET", "HEAD"])
async def follow_short_link(request: Request, code: str) -> Response:
    """GET redirects and counts; HEAD (link checkers, some previews) redirects only."""
    links: ShortLinks = request.app.state.short_links
    counted = request.method == "GET"
    url = await links.follow(code, request.headers.get("user-agent"), record=counted)
    if url is None:
        web: WebContext = request.app.state.web
        body = ErrorBody(
            404,
            "NOT_FOUND",
            "this link does not exist",
            None,
            "check that the whole link was copied from the message",
        )
        context: dict[str, Any] = {"error": body, "user": None, "session": None}
        return web.templates.TemplateResponse(request, "error.html", context, status_code=404)
    return RedirectResponse(location(url), status_code=302, headers={"Cache-Control": "no-store"})
