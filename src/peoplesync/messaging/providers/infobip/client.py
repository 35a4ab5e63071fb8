"""Infobip's HTTP API on an injected ``httpx.AsyncClient``: send, retry, read both envelopes.

A retried request carries the same message ids. If an earlier attempt did get through, the
provider answers REJECTED_DUPLICATE_MESSAGE_ID for those ids, which this client reads as
accepted: a retry never becomes a second message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from peoplesync.messaging.message import Message, Outcome, SendResult, Webhooks
from peoplesync.messaging.provider_errors import ProviderAuthError, ProviderUnavailableError
from peoplesync.messaging.providers.infobip.requests import ProviderRequest, build_requests

Sleep = Callable[[float], Awaitable[None]]
DUPLICATE = "REJECTED_DUPLICATE_MESSAGE_ID"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class InfobipAccount:
    """One provider account: its name, per-account base URL and API key."""

    name: str
    base_url: str
    api_key: str = field(repr=False)
    ca_cert: str | None = None  # a CA file to trust besides the system's (a private sandbox)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.first_delay * self.factor ** (attempt - 1), self.max_delay)


class InfobipProvider:
    """Sends through one Infobip account."""

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
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    async def send(
        self, messages: Sequence[Message], *, bulk_id: str, webhooks: Webhooks
    ) -> list[SendResult]:
        by_id: dict[str, SendResult] = {}
        for request in build_requests(messages, bulk_id=bulk_id, webhooks=webhooks):
            for result in await self._send_one(request):
                by_id[result.message_id] = result
        return [by_id[message.message_id] for message in messages]

    async def _send_one(self, request: ProviderRequest) -> list[SendResult]:
        url = self._account.base_url.rstrip("/") + request.path
        headers = {
            "Authorization": f"App {self._account.api_key}",
            "Accept": "application/json",
        }
        failure = ""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                response = await self._http.post(url, json=request.body, headers=headers)
            except httpx.TransportError as exc:
                failure = f"could not reach {self._account.base_url}: {type(exc).__name__}"
                wait = None
            else:
                if response.status_code in (401, 403):
                    raise ProviderAuthError(
                        f"provider account {self._account.name!r} was refused "
                        f"({response.status_code} {_error_code(response)})"
                    )
                if response.status_code == 400:
                    return _rejected(request, _violations(response))
                if response.status_code < 300:
                    body = _json(response)
                    if body.get("messages"):
                        return parse_send_response(request, body)
                    failure = f"{response.status_code} with no messages in the answer"
                    wait = None
                    if attempt < self._retry.attempts:
                        await self._sleep(self._retry.delay(attempt, wait))
                    continue
                if response.status_code not in _RETRY_STATUSES:
                    return _rejected(
                        request, f"{response.status_code} {_error_code(response)}".strip()
                    )
                failure = f"{response.status_code} {_error_code(response)}".strip()
                wait = retry_after(response)
            if attempt < self._retry.attempts:
                await self._sleep(self._retry.delay(attempt, wait))
        raise ProviderUnavailableError(
            f"provider account {self._account.name!r} failed {self._retry.attempts} times: "
            f"{failure}",
            hint="the messages stay queued and are retried; check the provider's status",
        )


def parse_send_response(request: ProviderRequest, body: Mapping[str, Any]) -> list[SendResult]:
    """One result per message id of the request, from either response shape."""
    bulk_id = body.get("bulkId")
    results: dict[str, SendResult] = {}
    for entry in body.get("messages") or []:
        status = entry.get("status") or {}
        name = str(status.get("name", ""))
        group = str(status.get("groupName", ""))
        parts = (entry.get("details") or {}).get("messageCount") or entry.get("messageCount")
        if name == DUPLICATE:
            # An earlier attempt reached the provider: the message is there, and its outcome
            # (possibly a rejection) arrives with its delivery report.
            outcome, description = Outcome.ACCEPTED, "taken by an earlier attempt"
            group, name = "PENDING", "EARLIER_ATTEMPT"
        elif group == "REJECTED":
            outcome, description = Outcome.REJECTED, str(status.get("description", ""))
        else:
            outcome, description = Outcome.ACCEPTED, str(status.get("description", ""))
        message_id = str(entry.get("messageId"))
        results[message_id] = SendResult(
            message_id=message_id,
            outcome=outcome,
            status_group=group,
            status_name=name,
            description=description,
            provider_bulk_id=str(bulk_id) if bulk_id else None,
            parts=int(parts) if isinstance(parts, int) else None,
        )
    missing = [mid for mid in request.message_ids if mid not in results]
    for message_id in missing:
        results[message_id] = SendResult(
            message_id, Outcome.REJECTED, "REJECTED", "MISSING_IN_RESPONSE", "not in the answer"
        )
    return [results[message_id] for message_id in request.message_ids]


def _rejected(request: ProviderRequest, description: str) -> list[SendResult]:
    return [
        SendResult(message_id, Outcome.REJECTED, "REJECTED", "BAD_REQUEST", description)
        for message_id in request.message_ids
    ]


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _error_code(response: httpx.Response) -> str:
    body = _json(response)
    if "errorCode" in body:
        return str(body["errorCode"])
    exception = (body.get("requestError") or {}).get("serviceException") or {}
    return str(exception.get("messageId", ""))


def _violations(response: httpx.Response) -> str:
    """The provider's reasons, from either envelope: ``property: violation; ...``."""
    body = _json(response)
    pairs: list[str] = []
    for violation in body.get("violations") or []:
        pairs.append(f"{violation.get('property')}: {violation.get('violation')}")
    exception = (body.get("requestError") or {}).get("serviceException") or {}
    for prop, messages in (exception.get("validationErrors") or {}).items():
        pairs.extend(f"{prop}: {message}" for message in messages)
    if not pairs:
        pairs.append(str(body.get("description") or exception.get("text") or "Bad request"))
    return "; ".join(pairs)


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429/5xx answer's ``Retry-After`` asks for, if it gives a number."""
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
