"""Inbound (MO) configurations per number, as Infobip's Resources API keeps them.

``GET /resource-management/1/inbound-message-configurations?channel=&number=`` lists a
number's configurations; ``POST`` creates one or, for the same channel, number and keyword,
updates it (its key stays); ``DELETE .../{configurationKey}`` removes one (204). A reply from
a handset to a number whose default configuration (no keyword) is ``HTTP_FORWARD`` goes to
that configuration's URL; other numbers' replies go to the sandbox-wide MO URL.

Shared numbers: a number ending in ``999`` is shared with other accounts; changing its
configuration is answered 403, as the provider does for a number this account may not change.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiosqlite
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.provider.envelope import error_response

Handler = Callable[[Request], Awaitable[Response]]
PATH = "/resource-management/1/inbound-message-configurations"
CHANNELS = frozenset(
    {"SMS", "MMS", "WHATSAPP", "RCS", "VIBER_BM", "APPLE_MB", "LINE_OA", "KAKAO_SANGDAM",
     "MESSENGER", "INSTAGRAM_DM", "ZALO_ZNS", "TELEGRAM", "VIBER_BOT", "EMAIL",
     "ZALO_FOLLOWER", "OPEN_CHANNEL", "TIKTOK_BM"}
)  # fmt: skip
FORWARD_TYPES = frozenset({"HTTP_FORWARD", "PULL", "MAIL_FORWARD", "SMPP_FORWARD"})
_NUMBER = re.compile(r"^\d{3,20}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound_configs (
    configuration_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    number TEXT NOT NULL,
    keyword TEXT NOT NULL DEFAULT '',
    forwarding TEXT,
    UNIQUE (channel, number, keyword)
);
"""


def is_shared(number: str) -> bool:
    return number.endswith("999")


def check_configuration(body: object) -> list[tuple[str, str]]:
    """Violations of a POST body, as (property, message)."""
    if not isinstance(body, Mapping):
        return [("body", "must be a JSON object")]
    out: list[tuple[str, str]] = []
    if body.get("channel") not in CHANNELS:
        out.append(("channel", f"must be one of {', '.join(sorted(CHANNELS))}"))
    number = body.get("number")
    if not isinstance(number, str) or not _NUMBER.match(number):
        out.append(("number", "must be the number's digits (numberKey is not supported here)"))
    keyword = body.get("keyword")
    if keyword is not None and (not isinstance(keyword, str) or len(keyword) > 50):
        out.append(("keyword", "size must be between 0 and 50"))
    forwarding = body.get("forwarding")
    if forwarding is not None:
        if not isinstance(forwarding, Mapping) or forwarding.get("type") not in FORWARD_TYPES:
            out.append(("forwarding.type", f"must be one of {', '.join(sorted(FORWARD_TYPES))}"))
        elif forwarding["type"] == "HTTP_FORWARD":
            url = forwarding.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                out.append(("forwarding.url", "must be an http(s) URL"))
    return out


class InboundConfigs:
    """The configurations, in the sandbox's SQLite file (their own connection)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path, timeout=30)
        await self._db.executescript(_SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the inbound configurations are not open")
        return self._db

    async def of_number(self, channel: str, number: str) -> list[dict[str, Any]]:
        cursor = await self.db.execute(
            "SELECT configuration_key, channel, number, keyword, forwarding FROM inbound_configs"
            " WHERE channel = ? AND number = ? ORDER BY keyword",
            (channel, number),
        )
        return [_answer(row) for row in await cursor.fetchall()]

    async def forward_url(self, number: str, channel: str = "SMS") -> str | None:
        """Where the number's default configuration forwards replies, if it does over HTTP."""
        for config in await self.of_number(channel, number):
            forwarding = config.get("forwarding") or {}
            if "keyword" not in config and forwarding.get("type") == "HTTP_FORWARD":
                return str(forwarding["url"])
        return None

    async def put(self, body: Mapping[str, Any]) -> dict[str, Any]:
        keyword = body.get("keyword") or ""
        forwarding = json.dumps(body["forwarding"]) if body.get("forwarding") else None
        key = uuid.uuid4().hex.upper()
        await self.db.execute(
            "INSERT INTO inbound_configs (configuration_key, channel, number, keyword, forwarding)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, number, keyword)"
            " DO UPDATE SET forwarding = excluded.forwarding",
            (key, body["channel"], body["number"], keyword, forwarding),
        )
        await self.db.commit()
        cursor = await self.db.execute(
            "SELECT configuration_key, channel, number, keyword, forwarding FROM inbound_configs"
            " WHERE channel = ? AND number = ? AND keyword = ?",
            (body["channel"], body["number"], keyword),
        )
        row = await cursor.fetchone()
        assert row is not None
        return _answer(row)

    async def number_of(self, key: str) -> str | None:
        cursor = await self.db.execute(
            "SELECT number FROM inbound_configs WHERE configuration_key = ?", (key,)
        )
        row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def delete(self, key: str) -> bool:
        cursor = await self.db.execute(
            "DELETE FROM inbound_configs WHERE configuration_key = ?", (key,)
        )
        await self.db.commit()
        return bool(cursor.rowcount)

    def routes(self, endpoint: Callable[[Handler], Handler]) -> list[Route]:
        async def listed_or_put(request: Request) -> Response:
            if request.method == "GET":
                channel = request.query_params.get("channel")
                number = request.query_params.get("number", "").lstrip("+")
                if channel not in CHANNELS or not _NUMBER.match(number):
                    return error_response(
                        400,
                        legacy=False,
                        violations=[("channel", "required, with number")],
                    )
                return JSONResponse(await self.of_number(channel, number))
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None
            violations = check_configuration(body)
            if violations:
                return error_response(400, legacy=False, violations=violations)
            if is_shared(body["number"]):
                return _shared()
            return JSONResponse(await self.put(body))

        async def deleted(request: Request) -> Response:
            key = request.path_params["key"]
            number = await self.number_of(key)
            if number is None:
                return Response(status_code=404)
            if is_shared(number):
                return _shared()
            await self.delete(key)
            return Response(status_code=204)

        return [
            Route(PATH, endpoint(listed_or_put), methods=["GET", "POST"]),
            Route(PATH + "/{key}", endpoint(deleted), methods=["DELETE"]),
        ]


def _shared() -> Response:
    return error_response(
        403,
        legacy=False,
        violations=[("number", "the number is shared; its configuration is read-only")],
    )


def _answer(row: Any) -> dict[str, Any]:
    key, channel, number, keyword, forwarding = row
    del number  # asked by number: the provider's answer does not repeat it
    answer: dict[str, Any] = {"configurationKey": key, "channel": channel}
    if keyword:
        answer["keyword"] = keyword
    if forwarding:
        answer["forwarding"] = json.loads(forwarding)
    return answer
