"""Response header names spelled as Salesforce sends them on the wire.

HTTP header names are case-insensitive, but some clients copy headers into a plain dict and
look up ``Sforce-Locator``: an org answering ``sforce-locator`` ends their paging after one
page. Starlette keeps header names lower-cased, so this outermost ASGI layer restores the
spelling Salesforce uses (and adds ``Date``, which the server is told not to send).
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Names whose spelling is not each dash-separated part capitalised.
SPELLED = {
    b"sforce-numberofrecords": b"Sforce-NumberOfRecords",
    b"www-authenticate": b"WWW-Authenticate",
    b"etag": b"ETag",
    b"content-md5": b"Content-MD5",
    b"x-xss-protection": b"X-XSS-Protection",
}


def spelled(name: bytes) -> bytes:
    """The wire spelling of a header name: ``sforce-limit-info`` -> ``Sforce-Limit-Info``."""
    lower = name.lower()
    known = SPELLED.get(lower)
    if known is not None:
        return known
    return b"-".join(part[:1].upper() + part[1:] for part in lower.split(b"-"))


class WireHeaders:
    """ASGI middleware: response header names as Salesforce spells them, and ``Date``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def spell(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (spelled(bytes(name)), value) for name, value in message.get("headers", [])
                ]
                if not any(name == b"Date" for name, _ in headers):
                    headers.append((b"Date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, spell)
