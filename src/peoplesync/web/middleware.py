"""The app-wide request guards, as plain ASGI middleware: security headers on every answer,
and a 422 for text no database can store before any route sees it.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: that one runs the rest of the app
in a task of its own and streams the response through a memory channel, which cost more CPU
than a Journey Builder execute call's own work. These wrap ``receive`` and ``send`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peoplesync.web.error_bodies import ErrorBody
from peoplesync.web.input_guard import unstorable_error, unstorable_request
from peoplesync.web.security_headers import SECURITY_HEADERS

FRAMED_PREFIX = "/journey/"  # pages shown inside Journey Builder's frame
PRIVATE_PREFIXES = ("/people", "/salesforce", "/account", "/api/", "/oauth/", "/messag")
_Header = tuple[bytes, bytes]
_ALL = tuple((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
_FRAMED = tuple(header for header in _ALL if header[0] != b"x-frame-options")
_NO_STORE: _Header = (b"cache-control", b"no-store")

PageError = Callable[[Request, ErrorBody], Response]


class SecurityHeaders:
    """Adds the security headers (not X-Frame-Options under /journey/) and, on private paths,
    ``Cache-Control: no-store`` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        wanted = _FRAMED if path.startswith(FRAMED_PREFIX) else _ALL
        if path.startswith(PRIVATE_PREFIXES):
            wanted = (*wanted, _NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[_Header] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in wanted if header[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StorableInput:
    """Answers 422 (JSON under /api/, else the page ``page_error`` renders) to a request whose
    path, query, JSON or form body holds text no database can store; the route never runs.
    A body read for the check is handed on to the app unchanged."""

    def __init__(self, app: ASGIApp, page_error: PageError) -> None:
        self.app = app
        self.page_error = page_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field, body = await unstorable_request(scope, receive)
        if body is not None:
            receive = _replay(body, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        error = unstorable_error(field)
        response: Response
        if scope["path"].startswith("/api/"):
            response = JSONResponse(error.json(), status_code=error.status)
        else:
            response = self.page_error(Request(scope, receive), error)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then waits on the real one (disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


__all__ = ["SECURITY_HEADERS", "SecurityHeaders", "StorableInput"]
