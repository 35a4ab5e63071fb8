"""The app as the Journey Builder processes serve it: ``/journey/...`` and ``/health`` only.

``peoplesync serve --journey-port P --journey-processes N`` runs N more processes that share
one listening socket on port P and answer Journey Builder there (the kernel hands each new
connection to one of them). What they run is safe in several processes at once: a call's
business unit is read from the database (cached a few seconds, as in the main process), a
message is stored under its idempotency key, which the database keeps unique (SQLite's
write lock, PostgreSQL's unique index), so a retried call answered by another process still
finds its one message,
and a stopped journey is a row every process reads. Everything that keeps state in memory
(the login throttle, the sync workers, the sender, report write-back, transfers) stays in
the main process on its own port; here every other path is 404.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

JOURNEY_PREFIX = "/journey/"
HEALTH = "/health"
_NOT_HERE = b'{"error":"this port serves Journey Builder calls only (/journey/...)"}'


class JourneyOnly:
    """Passes lifespan events and requests under ``/journey/`` (and ``/health``) to ``app``;
    answers every other HTTP request 404 in JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(JOURNEY_PREFIX) or path == HEALTH:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-length", str(len(_NOT_HERE)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _NOT_HERE})
