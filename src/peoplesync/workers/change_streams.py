"""The change streams: Salesforce's change events applied to People per step, and what each
batch brought, in words."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from peoplesync.errors import PeopleSyncError, StopError
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.salesforce.streaming import NEW_EVENTS
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.workers.events import EventSink, StreamTrouble, ignore


async def stream_changes(
    runners: dict[str, InboundRunner],
    on_batch: Callable[[str, InboundReport], Any] | None = None,
    events: EventSink = ignore,
) -> None:
    """Apply Change Data Capture events for every step until cancelled.

    Polling keeps running beside it as the safety net; an org without CDC (or a replay id
    that left the retention window) falls back to polling alone. ``on_batch`` hears each
    step's running report after every batch of events; ``events`` hears a stream's trouble.
    """

    async def follow(sobject: str, runner: InboundRunner) -> None:
        delay = 1.0

        def heard(report: InboundReport) -> bool:
            if on_batch is not None:
                on_batch(sobject, report)
            return False

        while True:
            try:
                await runner.follow_changes(stop=heard)
            except SalesforceUnavailableError as error:
                if error.error_code == "REPLAY_GAP":
                    # Events were lost to the retention window; polling reads what changed,
                    # the stream starts again from new events.
                    await runner.store.set_state(runner.step.stream_key, {"replay_id": NEW_EVENTS})
                    continue
                gave_up = error.error_code == "STREAMING"
                events(StreamTrouble(sobject, error, gave_up=gave_up))
                if gave_up:
                    return
            except PeopleSyncError as error:
                if isinstance(error, StopError):
                    raise
                events(StreamTrouble(sobject, error, gave_up=False))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    await asyncio.gather(*(follow(sobject, runner) for sobject, runner in runners.items()))


class StreamNews:
    """Turns a step's running stream reports into what arrived since the last one heard."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, int, int]] = {}

    def heard(self, step: str, report: InboundReport) -> str | None:
        """One line on what ``step``'s last batch created, updated and removed in People
        (None when it changed nothing)."""
        now = (report.created, report.updated, report.deleted + report.unlinked)
        before = self._seen.get(step, (0, 0, 0))
        self._seen[step] = now
        created, updated, removed = (max(0, a - b) for a, b in zip(now, before, strict=True))
        if not (created or updated or removed):
            return None
        return (
            f"{step} changes arrived from Salesforce: {created} created, {updated} updated, "
            f"{removed} removed in People"
        )
