"""An async client for one Marketing Cloud business unit, on an injected httpx client.

Tokens come from ``<auth_url>/v2/token`` (client credentials with the MID as ``account_id``),
are cached until shortly before they expire and fetched again on a 401. A 429 waits for its
``Retry-After``; 5xx and network failures back off; both give up after ``RetryPolicy.attempts``
with ``MarketingCloudUnavailableError``. A 400/404 is ``MarketingCloudRequestError`` with the
server's message. Nothing secret is put in an error.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from peoplesync.marketing_cloud.api_errors import (
    MarketingCloudAuthError,
    MarketingCloudRequestError,
    MarketingCloudUnavailableError,
)
from peoplesync.marketing_cloud.units import UnitKeys

Sleep = Callable[[float], Awaitable[None]]
TOKEN_MARGIN_SECONDS = 60.0  # refresh this long before the server's expiry


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait on 429, 5xx and network failures."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1``: ``Retry-After`` when given."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return float(min(self.base_delay * 2**attempt, self.max_delay))


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when the header holds a number."""
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def error_message(response: httpx.Response) -> str:
    """The server's own words: ``message`` plus ``additionalErrors`` or ``resultMessages``."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [str(body["message"])] if body.get("message") else []
    for extra in body.get("additionalErrors") or body.get("resultMessages") or []:
        if isinstance(extra, dict) and extra.get("message"):
            parts.append(str(extra["message"]))
    if body.get("error"):
        parts.append(str(body.get("error_description") or body["error"]))
    return "; ".join(parts) or f"HTTP {response.status_code}"


def why(failure: httpx.TransportError) -> str:
    """A transport failure in words: its kind, and for an untrusted TLS certificate (a private
    sandbox's, or a wrong address) what to do about it."""
    kind = type(failure).__name__
    if isinstance(failure.__context__, ssl.SSLCertVerificationError) or (
        "CERTIFICATE_VERIFY_FAILED" in str(failure)
    ):
        return f"{kind}, its TLS certificate is not trusted (give the unit's CA file)"
    return kind


class MarketingCloudClient:
    """REST calls to one business unit; ``http`` is owned by the caller."""

    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: str,
        mid: str,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.mid = mid
        self.http = http
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._rest_url = ""
        self._token_lock = asyncio.Lock()
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"MarketingCloudClient(mid={self.mid!r}, client_id={self.client_id!r})"

    async def _fresh_token(self, stale: str | None) -> str:
        async with self._token_lock:
            if self._token is not None and self._token != stale and self._clock() < self._expires:
                return self._token
            self.token_requests += 1
            try:
                response = await self.http.post(
                    f"{self.auth_url}/v2/token",
                    json={
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self._secret,
                        "account_id": self.mid,
                    },
                )
            except httpx.TransportError as failure:
                raise MarketingCloudUnavailableError(
                    f"Marketing Cloud auth for MID {self.mid} unreachable: {why(failure)}"
                ) from None
            if response.status_code in (400, 401, 403):
                raise MarketingCloudAuthError(
                    f"Marketing Cloud refused the credentials of MID {self.mid}: "
                    f"{error_message(response)}"
                )
            if response.status_code != 200:
                raise MarketingCloudUnavailableError(
                    f"Marketing Cloud auth for MID {self.mid} answered {response.status_code}",
                    retry_after=retry_after(response),
                )
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 1079))
            self._expires = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            self._rest_url = str(body.get("rest_instance_url") or f"{self.auth_url}/").rstrip("/")
            return self._token

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        not_found_is_none: bool = False,
    ) -> Any:
        """One REST call with token, 401 refresh, 429/5xx/network retries; the JSON answer."""
        token = await self._fresh_token(None) if self._token is None else self._token
        if self._clock() >= self._expires:
            token = await self._fresh_token(token)
        refreshed = False
        last = "no answer"
        wait_hint: float | None = None
        for attempt in range(self.retry.attempts):
            try:
                response = await self.http.request(
                    method,
                    f"{self._rest_url}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as failure:
                last, wait_hint = why(failure), None
                await self._sleep(self.retry.delay(attempt))
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed = True
                token = await self._fresh_token(token)
                continue
            if status == 401:
                raise MarketingCloudAuthError(
                    f"Marketing Cloud MID {self.mid} refused a fresh token for {path}"
                )
            if status == 429 or status >= 500:
                last, wait_hint = f"HTTP {status}", retry_after(response)
                await self._sleep(self.retry.delay(attempt, wait_hint))
                continue
            if status == 404 and not_found_is_none:
                return None
            if status >= 400:
                raise MarketingCloudRequestError(
                    f"{method} {path} refused: {error_message(response)}", status=status
                )
            return response.json() if response.content else None
        raise MarketingCloudUnavailableError(
            f"{method} {path} on MID {self.mid} failed {self.retry.attempts} times ({last})",
            retry_after=wait_hint,
        )

    async def check_credentials(self) -> str:
        """Fetch a token now (``/v2/token``); the REST address it names. Refused credentials
        raise ``MarketingCloudAuthError``, an unreachable or failing server
        ``MarketingCloudUnavailableError``."""
        await self._fresh_token(None)
        return self._rest_url

    # --- data extensions -----------------------------------------------------------------

    async def find_extension(self, key: str) -> dict[str, Any] | None:
        """The definition (id, name, key, fields) of the extension keyed ``key``, if any."""
        found = await self.call("GET", "/data/v1/customobjects", params={"$search": key})
        for item in found.get("items", []):
            if str(item.get("key", "")).lower() == key.lower():
                fields = await self.call("GET", f"/data/v1/customobjects/{item['id']}/fields")
                return {**item, "fields": fields.get("fields", [])}
        return None

    async def create_extension(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = await self.call(
            "POST", "/data/v1/customobjects", json=dict(definition)
        )
        return created

    async def add_fields(self, extension_id: str, fields: Sequence[Mapping[str, Any]]) -> None:
        await self.call(
            "POST",
            f"/data/v1/customobjects/{extension_id}/fields",
            json={"fields": [dict(each) for each in fields]},
        )

    async def upsert_rowset(self, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Synchronous upsert of ``[{"keys": ..., "values": ...}]`` (keep it to 50 rows)."""
        await self.call("POST", f"/hub/v1/dataevents/key:{key}/rowset", json=list(rows))

    async def upsert_async(self, key: str, items: Sequence[Mapping[str, Any]]) -> str:
        """Asynchronous upsert of flat rows; the request id to poll."""
        answer = await self.call(
            "PUT", f"/data/v1/async/dataextensions/key:{key}/rows", json={"items": list(items)}
        )
        return str(answer["requestId"])

    async def async_status(self, request_id: str) -> dict[str, Any]:
        answer = await self.call("GET", f"/data/v1/async/{request_id}/status")
        status: dict[str, Any] = answer.get("status") or {"requestStatus": "Unknown"}
        return status

    async def async_errors(self, request_id: str) -> list[dict[str, Any]]:
        answer = await self.call(
            "GET", f"/data/v1/async/{request_id}/results", params={"includeDetail": "true"}
        )
        return [item for item in answer.get("items", []) if item.get("status") == "Error"]

    async def read_rows(
        self, key: str, *, where: str | None = None, page: int = 1, page_size: int = 2500
    ) -> dict[str, Any]:
        """One page of rows (field names lower-cased by the server)."""
        params = {"$page": str(page), "$pageSize": str(page_size)}
        if where:
            params["$filter"] = where
        answer: dict[str, Any] = await self.call(
            "GET", f"/data/v1/customobjectdata/key/{key}/rowset", params=params
        )
        return answer

    async def fire_event(
        self, definition_key: str, contact_key: str, data: Mapping[str, Any]
    ) -> str:
        """An API event (entry or Wait Until Event); the event instance id."""
        answer = await self.call(
            "POST",
            "/interaction/v1/events",
            json={"ContactKey": contact_key, "EventDefinitionKey": definition_key, "Data": data},
        )
        return str(answer["eventInstanceId"])


def client_for(unit: UnitKeys, http: httpx.AsyncClient) -> MarketingCloudClient:
    """The client of a stored business unit (its opened secret), on ``http``."""
    return MarketingCloudClient(
        unit.info.auth_url, unit.info.client_id, unit.client_secret, unit.info.mid, http
    )
