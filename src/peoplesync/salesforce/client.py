"""The async Salesforce REST client: retries, one refresh on 401, call counting, queries."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from peoplesync.salesforce.auth import Authenticator, Session
from peoplesync.salesforce.failure import (
    SalesforceError,
    SalesforceUnavailableError,
    SessionExpiredError,
    from_response,
)

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
COLLECTION_SIZE = 200


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter for transient failures."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    random: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return self.random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))


@dataclass
class ApiUsage:
    """What the org reported of its daily allowance, and what this client spent."""

    used: int | None = None
    limit: int | None = None
    calls: int = 0


class SalesforceClient:
    """REST calls for one integration, on an injected ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        authenticator: Authenticator,
        *,
        api_version: str = "59.0",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        on_call: Callable[[], Any] | None = None,
        guard: Callable[[], None] | None = None,
    ) -> None:
        self.http = http
        self.authenticator = authenticator
        self.api_version = api_version
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.on_call = on_call
        # Asked before every call; raises (ApiLimitReachedError) to spend no more.
        self.guard = guard
        self.session: Session | None = None
        self._login = asyncio.Lock()  # calls made side by side log in once
        self.usage = ApiUsage()
        self._describes: dict[str, dict[str, Any]] = {}

    @property
    def base(self) -> str:
        """The REST base path of the configured API version."""
        return f"/services/data/v{self.api_version}"

    async def logged_in(self) -> Session:
        """The session, logging in first when there is none yet."""
        return await self._session()

    async def _session(self) -> Session:
        async with self._login:
            if self.session is None:
                self.session = await self.authenticator.login()
            return self.session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        wait_seconds: float | None = None,
        retry_unsure: bool = True,
    ) -> httpx.Response:
        """One API call; retries transient failures, logs in again once on an expired session.

        With ``retry_unsure`` off, a failure that leaves unknown whether Salesforce applied
        the call (a timeout after sending, a 504) is raised at once instead of retried, so
        the caller can check before writing again (creates must not be repeated blindly).
        """
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            if self.guard is not None:
                self.guard()
            session = await self._session()
            url = path if path.startswith("http") else f"{session.instance_url}{path}"
            try:
                response = await self.http.request(
                    method,
                    url,
                    json=json,
                    content=content,
                    params=params,
                    headers={"Authorization": f"Bearer {session.access_token}", **(headers or {})},
                    timeout=httpx.USE_CLIENT_DEFAULT if wait_seconds is None else wait_seconds,
                )
                self._count(response)
                if response.status_code < 300:
                    return response
                error: SalesforceError = from_response(
                    response.status_code, response.json() if response.content else None
                )
                unsure = response.status_code == 504
            except httpx.TransportError as exc:
                self.usage.calls += 1
                error = SalesforceUnavailableError(
                    f"{method} {path}: {type(exc).__name__}", error_code="TIMEOUT"
                )
                unsure = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if unsure and not retry_unsure:
                raise error
            if isinstance(error, SessionExpiredError) and not refreshed:
                refreshed = True
                if self.session is session:  # not yet replaced by a call beside this one
                    self.session = None
                continue
            if isinstance(error, SalesforceUnavailableError) and attempt < self.retry.attempts:
                await self.sleep(self.retry.delay(attempt))
                continue
            raise error

    def _count(self, response: httpx.Response) -> None:
        self.usage.calls += 1
        if self.on_call is not None:
            self.on_call()
        match = _USAGE.search(response.headers.get("sforce-limit-info", ""))
        if match:
            self.usage.used, self.usage.limit = int(match.group(1)), int(match.group(2))

    async def query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        batch_size: int | None = None,
        on_total: Callable[[int], Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl``.

        ``on_total`` hears ``totalSize`` from the first page (for progress bars; no extra call).
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        path = f"{self.base}/{'queryAll' if include_deleted else 'query'}"
        body = (await self.request("GET", path, params={"q": soql}, headers=headers)).json()
        if on_total is not None:
            on_total(int(body["totalSize"]))
        while True:
            for record in body["records"]:
                yield record
            next_url = body.get("nextRecordsUrl")
            if not next_url:
                return
            body = (await self.request("GET", next_url, headers=headers)).json()

    async def count(self, soql: str) -> int:
        """``totalSize`` of a ``SELECT COUNT() ...`` query."""
        body = (await self.request("GET", f"{self.base}/query", params={"q": soql})).json()
        return int(body["totalSize"])

    async def describe(self, sobject: str) -> dict[str, Any]:
        """An sObject's describe, cached for the life of the client."""
        if sobject not in self._describes:
            self._describes[sobject] = (
                await self.request("GET", f"{self.base}/sobjects/{sobject}/describe")
            ).json()
        return self._describes[sobject]

    async def limits(self) -> dict[str, Any]:
        """The org's limits."""
        body: dict[str, Any] = (await self.request("GET", f"{self.base}/limits")).json()
        return body

    async def create_many(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        retry_unsure: bool = True,
    ) -> list[dict[str, Any]]:
        """Create records 200 per call; one result per record, in order.

        ``retry_unsure=False``: a timeout is raised, not retried (see ``request``).
        """
        return await self._collection("POST", sobject, records, all_or_none, retry_unsure)

    async def update_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """Update records (each with ``Id``) 200 per call."""
        return await self._collection("PATCH", sobject, records, all_or_none)

    async def _collection(
        self,
        method: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool,
        retry_unsure: bool = True,
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = [
                {"attributes": {"type": sobject}, **r}
                for r in records[start : start + COLLECTION_SIZE]
            ]
            response = await self.request(
                "POST" if method == "POST" else "PATCH",
                f"{self.base}/composite/sobjects",
                json={"allOrNone": all_or_none, "records": chunk},
                retry_unsure=retry_unsure,
            )
            results += response.json()
        return results

    async def upsert_many(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[dict[str, Any]]:
        """Upsert records keyed on an external-id field 200 per call (``created`` tells which
        were new). Repeating an upsert is harmless, so unsure calls are retried."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = [
                {"attributes": {"type": sobject}, **r}
                for r in records[start : start + COLLECTION_SIZE]
            ]
            response = await self.request(
                "PATCH",
                f"{self.base}/composite/sobjects/{sobject}/{external_id_field}",
                json={"allOrNone": all_or_none, "records": chunk},
            )
            results += response.json()
        return results

    async def delete_many(
        self, ids: Sequence[str], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """Delete records 200 per call."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(ids), COLLECTION_SIZE):
            params = {
                "ids": ",".join(ids[start : start + COLLECTION_SIZE]),
                "allOrNone": str(all_or_none).lower(),
            }
            results += (
                await self.request("DELETE", f"{self.base}/composite/sobjects", params=params)
            ).json()
        return results
