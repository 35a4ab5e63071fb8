"""Delivery and seen reports: their payloads, and a loop that posts them (and replies from
handsets, see ``inbound``, and click reports, see ``clicks``) when due. Reports due together
to one URL are posted together (the ``results`` array holds several), a few posts at once.

A receiver that fails (non-2xx or unreachable) is retried after 1 min + 1 min x n^2, as the
real service does, scaled by ``retry_scale``; after ``max_webhook_attempts`` it is given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from peoplesync.sandbox.provider.clicks import click_payload
from peoplesync.sandbox.provider.config import ProviderConfig
from peoplesync.sandbox.provider.inbound import inbound_payload
from peoplesync.sandbox.provider.outcomes import fate_of
from peoplesync.sandbox.provider.store import GAVE_UP, SENT, Mark, MessageStore, StoredMessage

log = logging.getLogger(__name__)
Clock = Callable[[], float]
PRICES = {"sms": 0.01, "mms": 0.05, "viber": 0.015, "whatsapp": 0.02, "rcs": 0.02}


def provider_time(epoch: float) -> str:
    """The provider's timestamp form: milliseconds and an offset without a colon."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def delivery_report(message: StoredMessage, done_at: float) -> dict[str, Any]:
    """One ``results`` entry of a delivery report."""
    fate = fate_of(message.recipient, message.channel)
    assert fate.final is not None
    entry: dict[str, Any] = {
        "bulkId": message.bulk_id,
        "price": {"pricePerMessage": PRICES.get(message.channel, 0.01), "currency": "EUR"},
        "status": fate.final.as_json(),
        "error": fate.error.as_json(),
        "messageId": message.message_id,
        "to": message.recipient,
        "sentAt": provider_time(message.submitted_at),
        "doneAt": provider_time(done_at),
        "messageCount": int(message.body.get("_parts", 1)),
    }
    if message.sender and message.channel != "whatsapp":
        entry["sender"] = message.sender
    if message.callback_data is not None:
        entry["callbackData"] = message.callback_data
    return entry


def seen_report(message: StoredMessage, seen_at: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "messageId": message.message_id,
        "to": message.recipient,
        "sentAt": provider_time(message.submitted_at),
        "seenAt": provider_time(seen_at),
    }
    if message.sender:
        entry["from"] = message.sender
    return entry


def retry_delay(attempt: int, scale: float) -> float:
    """Seconds before retry number ``attempt`` (1-based)."""
    return (60.0 + 60.0 * attempt * attempt) * scale


class ReportDispatcher:
    """Posts due reports to each message's webhook; runs until stopped.

    Like a real provider's many workers, it does not post one report after the other:
    reports due to the same URL go together, up to ``report_batch`` in one post's ``results``
    array, and up to ``webhook_concurrency`` posts are in flight at once.
    """

    def __init__(
        self,
        config: ProviderConfig,
        store: MessageStore,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        tick: float = 0.05,
    ) -> None:
        self._config = config
        self._store = store
        self._http = http
        self._clock = clock
        self._tick = tick
        self._task: asyncio.Task[None] | None = None
        self._more = False  # the last pass left due reports behind (a full page)
        self.delivered: list[dict[str, Any]] = []  # every payload accepted, for the control page

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.dispatch_due()
            except Exception:  # the loop must outlive any one bad receiver or row
                log.exception("report dispatch failed; retrying")
                self._more = False
            if not self._more:
                await asyncio.sleep(self._tick)

    async def dispatch_due(self) -> int:
        """Post every report due now (a page of each kind); returns how many reports were
        posted successfully."""
        now = self._clock()
        self._more = False
        posted = await self._dispatch("report", now) + await self._dispatch("seen", now)
        for reply in await self._store.inbound_due(now):
            payload = inbound_payload(reply, provider_time(reply.received_at))
            if await self._deliver("inbound", reply.url, payload):
                await self._store.mark_inbound(reply.message_id, SENT, None)
                posted += 1
            else:
                state, next_at = self._next_try(reply.attempts)
                await self._store.mark_inbound(reply.message_id, state, next_at)
        for click in await self._store.clicks_due(now):
            payload = click_payload(click, click.callback_data, click.bulk_id)
            if await self._deliver("click", click.tracking_url, payload):
                await self._store.mark_click(click.id, SENT, None)
                posted += 1
            else:
                state, next_at = self._next_try(click.attempts)
                await self._store.mark_click(click.id, state, next_at)
        return posted

    async def _dispatch(self, kind: str, now: float) -> int:
        """One page of due ``kind`` reports: grouped by URL, posted in batches at once,
        then marked in one transaction."""
        knobs = self._config.knobs
        page = max(1, knobs.report_batch) * max(1, knobs.webhook_concurrency) * 4
        due = await self._store.due(kind, now, limit=page)
        self._more = self._more or len(due) == page
        marks: list[Mark] = []
        by_url: dict[str, list[StoredMessage]] = {}
        for message in due:
            url = message.notify_url if kind == "report" else message.seen_url
            if url:
                by_url.setdefault(url, []).append(message)
            else:  # nowhere to post: done with it
                marks.append(Mark(message.message_id, SENT))
        size = max(1, knobs.report_batch)
        batches = [
            (url, messages[start : start + size])
            for url, messages in by_url.items()
            for start in range(0, len(messages), size)
        ]
        slots = asyncio.Semaphore(max(1, knobs.webhook_concurrency))

        async def post(url: str, batch: list[StoredMessage]) -> list[Mark]:
            build = delivery_report if kind == "report" else seen_report
            payload = {"results": [build(message, now) for message in batch]}
            async with slots:
                ok = await self._deliver(kind, url, payload)
            if ok:
                answered = self._clock()
                return [Mark(m.message_id, SENT, None, answered) for m in batch]
            attempts = [m.report_attempts if kind == "report" else m.seen_attempts for m in batch]
            return [
                Mark(m.message_id, *self._next_try(tries))
                for m, tries in zip(batch, attempts, strict=True)
            ]

        done = await asyncio.gather(*(post(url, batch) for url, batch in batches))
        marks += [mark for batch in done for mark in batch]
        if marks:
            await self._store.mark(kind, marks)
        return sum(1 for batch in done for mark in batch if mark.posted_at is not None)

    async def _deliver(self, kind: str, url: str, payload: dict[str, Any]) -> bool:
        try:
            response = await self._http.post(url, json=payload, timeout=10.0)
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError:
            ok = False
        if ok:
            self.delivered.append({"kind": kind, "url": url, "payload": payload})
        return ok

    def _next_try(self, attempts: int) -> tuple[int, float | None]:
        """After a failed post: (state, next time), or given up after the last attempt."""
        attempt = attempts + 1
        if attempt >= self._config.max_webhook_attempts:
            return GAVE_UP, None
        return 0, self._clock() + retry_delay(attempt, self._config.retry_scale)
