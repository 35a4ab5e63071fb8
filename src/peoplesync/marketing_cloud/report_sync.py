"""One write-back pass for a business unit: report rows not written yet go to its data
extensions (native storage) or to its webhooks (external storage), and replies to messages
whose journey set ``triggerEventOnResponse`` fire the unit's API event, once each.

Each page is written, then marked in one transaction (see ``report_marks``): a crash between
the two writes the page again on the next pass, as upserts by primary key, so nothing is lost
or duplicated. One pass per unit runs at a time (``SyncLease``: a second process finds the
lease held and skips its pass), and each kind is read from the unit's cursor on (see
``report_marks``). Marketing Cloud's 429 and 5xx are waited out by the client; a webhook's by
:func:`post_rows`. A row Marketing Cloud or the webhook refuses is reported by record and field
and marked, so it is not sent again until it changes; the rest of the page is written.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from peoplesync.errors import RecordError
from peoplesync.marketing_cloud.api_errors import MarketingCloudUnavailableError
from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy, Sleep, retry_after
from peoplesync.marketing_cloud.report_mapping import (
    CLICKS,
    EVENT,
    EXTENSIONS,
    INBOUND,
    KINDS,
    webhook_body,
)
from peoplesync.marketing_cloud.report_marks import Page, Pending, ReportMarks
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.marketing_cloud.units import UnitInfo
from peoplesync.marketing_cloud.write_back import WritePolicy, prepare_row, prepare_rows, write_rows

log = logging.getLogger(__name__)


@dataclass
class SyncOutcome:
    """What one pass did: rows written per kind, events fired, rows refused."""

    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    events: int = 0
    errors: list[RecordError] = field(default_factory=list)
    locked_until: datetime | None = None  # set when another process held the unit's lease

    @property
    def total(self) -> int:
        return sum(self.written.values())


async def post_rows(
    http: httpx.AsyncClient, url: str, body: object, retry: RetryPolicy, sleep: Sleep
) -> None:
    """POST ``body`` as JSON; 429, 5xx and network failures are retried, then raised as
    :class:`MarketingCloudUnavailableError` (the pass stops; nothing is marked)."""
    last = "no answer"
    for attempt in range(retry.attempts):
        wait: float | None = None
        try:
            response = await http.post(url, json=body)
        except httpx.TransportError as failure:
            last = type(failure).__name__
        else:
            if response.status_code < 300:
                return
            last = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                raise MarketingCloudUnavailableError(f"report webhook refused the rows ({last})")
            wait = retry_after(response)
        await sleep(retry.delay(attempt, wait))
    raise MarketingCloudUnavailableError(f"report webhook failed {retry.attempts} times ({last})")


class ReportSync:
    """Write-back passes for one business unit."""

    def __init__(
        self,
        unit: UnitInfo,
        marks: ReportMarks,
        client: MarketingCloudClient,
        http: httpx.AsyncClient,
        *,
        page_size: int = 500,
        policy: WritePolicy | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        lease: SyncLease | None = None,
        margin: timedelta = timedelta(minutes=2),
    ) -> None:
        self.unit = unit
        self._marks = marks
        self.lease = lease
        self._margin = margin
        self._client = client
        self._http = http
        self._page_size = page_size
        self._policy = policy or WritePolicy()
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    async def run_once(self) -> SyncOutcome:
        """Write every pending row of every kind, then fire the events due; with a lease,
        nothing when another process holds it (``locked_until`` says until when)."""
        if self.lease is not None and not await self.lease.acquire():
            return SyncOutcome(locked_until=await self.lease.holder_until())
        try:
            return await self._pass()
        finally:
            if self.lease is not None:
                await self.lease.release()

    async def _pass(self) -> SyncOutcome:
        outcome = SyncOutcome()
        for kind in KINDS:
            cursor = await self._marks.cursor(self.unit.name, kind)
            since = cursor - self._margin if cursor is not None else None
            newest = cursor
            # the wall clock, as the rows' change times are stamped (see report_marks)
            started = datetime.now(UTC)
            after: str | None = None
            while True:
                if self.lease is not None:
                    await self.lease.renew()
                page = await self._page(kind, after, since)
                if page.rows:
                    await self._write(kind, page.rows, outcome)
                    await self._marks.mark(self.unit.name, kind, page.rows)
                if page.newest is not None and (newest is None or page.newest > newest):
                    newest = page.newest
                if page.last_key is None:
                    break
                after = page.last_key
            if newest is not None and newest > started:
                newest = started  # a row read early may have changed since: read it again
            if newest is None or newest < started - self._margin:
                # every row changed before then was read, and a late commit is covered by the
                # margin: the newest rows are not read again pass after pass
                newest = started - self._margin
            if newest is not None and newest != cursor:
                await self._marks.save_cursor(self.unit.name, kind, newest)
        if self.unit.event_definition_key:
            await self._fire(self.unit.event_definition_key, outcome)
        return outcome

    async def _page(self, kind: str, after: str | None, since: datetime | None) -> Page:
        name, mid, size = self.unit.name, self.unit.mid, self._page_size
        if kind == INBOUND:
            return await self._marks.inbound_page(name, mid, after, size, since)
        if kind == CLICKS:
            return await self._marks.click_page(name, mid, after, size, since)
        return await self._marks.report_page(name, mid, kind, after, size, since)

    async def _write(self, kind: str, rows: list[Pending], outcome: SyncOutcome) -> None:
        extension = EXTENSIONS[kind]
        if self.unit.report_storage == "native":
            written = await write_rows(
                self._client, extension, [each.row for each in rows], self._policy, self._sleep
            )
            outcome.written[kind] += written.written
            outcome.errors.extend(written.errors)
            return
        label, url = self._webhook(kind)
        if not url:
            raise MarketingCloudUnavailableError(
                f"business unit {self.unit.name!r} keeps reports externally but has no "
                f"{label} webhook URL"
            )
        good, refused = prepare_rows(extension, [each.row for each in rows])
        outcome.errors.extend(refused)
        if good:
            body = webhook_body(self.unit.name, kind, good)
            await post_rows(self._http, url, body, self._retry, self._sleep)
            outcome.written[kind] += len(good)

    def _webhook(self, kind: str) -> tuple[str, str | None]:
        """Where external storage posts a kind's rows (clicks: the clicks webhook, else the
        reports one; the body names the kind)."""
        if kind == INBOUND:
            return "inbound", self.unit.inbound_webhook_url
        if kind == CLICKS:
            return "clicks", self.unit.clicks_webhook_url or self.unit.reports_webhook_url
        return "reports", self.unit.reports_webhook_url

    async def _fire(self, definition_key: str, outcome: SyncOutcome) -> None:
        while due := await self._marks.events_due(self.unit.name, self.unit.mid, 100):
            for index, reply in enumerate(due):
                if self.lease is not None:
                    # event by event: a slow batch must not let another copy in to fire the
                    # replies not marked yet again
                    await self.lease.renew()
                contact = str(reply.row.get("ContactKey") or "")
                try:
                    data = prepare_row(EXTENSIONS[INBOUND], reply.row, index)
                    if not contact:
                        raise RecordError(
                            "no ContactKey in the callback data of the message replied to",
                            record=f"reply {reply.key}",
                            field="ContactKey",
                        )
                    instance = await self._client.fire_event(definition_key, contact, data)
                except RecordError as error:
                    outcome.errors.append(error)
                    instance = "refused"
                # stored at once: a reply fires its event once
                await self._marks.mark(self.unit.name, EVENT, [Pending(reply.key, {}, instance)])
                outcome.events += instance != "refused"
