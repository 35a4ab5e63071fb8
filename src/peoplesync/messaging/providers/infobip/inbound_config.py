"""A number's inbound (MO) configuration at Infobip: read, forward to a URL, delete.

Infobip's Resources API (``/resource-management/1/inbound-message-configurations``): ``GET``
with ``channel`` and ``number`` lists the number's configurations; ``POST`` creates one, or
updates the number's configuration with the same channel and keyword; ``DELETE .../{key}``
removes one. The API key needs the ``numbers:manage`` scope. A 403 means the number is shared
or the key may not change it; both are reported as such, never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from peoplesync.messaging.inbound_numbers import InboundConfig, InboundNumberError
from peoplesync.messaging.provider_errors import ProviderAuthError, ProviderUnavailableError
from peoplesync.messaging.providers.infobip.client import (
    InfobipAccount,
    RetryPolicy,
    Sleep,
    retry_after,
)

PATH = "/resource-management/1/inbound-message-configurations"
FORMAT = "MO_JSON_2"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def forward_body(number: str, channel: str, url: str) -> dict[str, Any]:
    """The request that makes ``number``'s replies on ``channel`` go to ``url``."""
    return {
        "channel": channel,
        "number": number,
        "forwarding": {"type": "HTTP_FORWARD", "url": url, "format": FORMAT},
    }


def parse_configuration(entry: Mapping[str, Any], number: str | None = None) -> InboundConfig:
    forwarding = entry.get("forwarding") or {}
    return InboundConfig(
        key=str(entry.get("configurationKey", "")),
        channel=str(entry.get("channel", "")),
        number=str(entry["number"]) if entry.get("number") else number,
        keyword=entry.get("keyword") or None,
        forward_type=forwarding.get("type"),
        forward_url=forwarding.get("url"),
    )


class InboundConfigClient:
    """One account's inbound configurations."""

    def __init__(
        self,
        account: InfobipAccount,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._account = account
        self._http = http
        self._retry = retry or RetryPolicy(attempts=3)
        self._sleep = sleep

    async def configurations(self, number: str, channel: str) -> list[InboundConfig]:
        response = await self._call(
            "GET", PATH, number, params={"channel": channel, "number": number}
        )
        body = _json(response)
        entries = body if isinstance(body, list) else []
        return [
            parse_configuration(entry, number) for entry in entries if isinstance(entry, Mapping)
        ]

    async def forward(self, number: str, channel: str, url: str) -> InboundConfig:
        response = await self._call("POST", PATH, number, json=forward_body(number, channel, url))
        body = _json(response)
        return parse_configuration(body if isinstance(body, Mapping) else {}, number)

    async def delete(self, number: str, key: str) -> None:
        await self._call("DELETE", f"{PATH}/{quote(key, safe='')}", number)

    async def _call(
        self,
        method: str,
        path: str,
        number: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        url = self._account.base_url.rstrip("/") + path
        headers = {"Authorization": f"App {self._account.api_key}", "Accept": "application/json"}
        failure = ""
        for attempt in range(1, self._retry.attempts + 1):
            wait: float | None = None
            try:
                response = await self._http.request(
                    method, url, params=params, json=json, headers=headers
                )
            except httpx.TransportError as exc:
                failure = f"could not reach {self._account.base_url}: {type(exc).__name__}"
            else:
                if response.status_code < 300:
                    return response
                if response.status_code == 401:
                    raise ProviderAuthError(
                        f"provider account {self._account.name!r} was refused (401)"
                    )
                if response.status_code == 403:
                    raise InboundNumberError(
                        "the provider does not let this account change the number's inbound "
                        "configuration (403)",
                        record=number,
                        field="number",
                        hint="the number may be shared with other accounts, or the API key "
                        "lacks the numbers:manage scope; check both in the provider's web "
                        "interface",
                    )
                if response.status_code not in _RETRY_STATUSES:
                    raise InboundNumberError(
                        f"the provider refused the change ({response.status_code}: "
                        f"{_reason(response)})",
                        record=number,
                        field="number",
                        hint="check the number belongs to this account and takes this channel",
                    )
                failure = f"{response.status_code} {_reason(response)}"
                wait = retry_after(response)
            if attempt < self._retry.attempts:
                await self._sleep(self._retry.delay(attempt, wait))
        raise ProviderUnavailableError(
            f"provider account {self._account.name!r} failed {self._retry.attempts} times: "
            f"{failure}",
            hint="try again later; nothing was changed",
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    body = _json(response)
    if not isinstance(body, Mapping):
        return "no details"
    pairs = [
        f"{v.get('property')}: {v.get('violation')}"
        for v in body.get("violations") or []
        if isinstance(v, Mapping)
    ]
    return "; ".join(pairs) or str(body.get("description") or body.get("errorCode") or "")
