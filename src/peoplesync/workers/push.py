"""Outbound work: passes of an integration's outbound steps through the gated loop
(``push run`` and ``serve``'s push worker)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from peoplesync.clock import SystemClock
from peoplesync.people.change_waiter import ChangeWaiter
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.connection import review_hint
from peoplesync.sync.mapping import Direction
from peoplesync.sync.outbound.preview import PreviewClient, preview_summary
from peoplesync.sync.outbound.runner import OutboundReport, OutboundRunner
from peoplesync.sync.profile.model import Profile
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.status.schedule_keeper import ScheduleKeeper
from peoplesync.sync.status.state import RECHECK
from peoplesync.sync.status.store import StatusStore
from peoplesync.workers.events import EventSink, ignore
from peoplesync.workers.loop import NOT_DUE, NotDue, run_gated
from peoplesync.workers.outcome import Failed, Finished, Gated, Idle


@dataclass(frozen=True)
class PushPass:
    """What one push pass did, and the client's API calls so far."""

    report: OutboundReport
    api_calls: int


class _PushBody:
    def __init__(
        self,
        runner: OutboundRunner,
        recorder: StatusRecorder,
        client: SalesforceClient,
        *,
        interval: float,
        retry_failed: bool,
        schedules: ScheduleKeeper | None,
        waiter: ChangeWaiter,
    ) -> None:
        self.runner, self.recorder, self.client = runner, recorder, client
        self.interval = interval
        self.retry_failed = retry_failed
        self.schedules = schedules
        self.waiter = waiter  # a committed People change starts the next pass at once

    async def run(self, first: bool) -> PushPass | NotDue:
        if self.schedules is not None:  # following: when the shared push schedule says
            due = await self.schedules.due(realtime_every=timedelta(0))
            if not due.now:
                await asyncio.sleep(due.wait(self.recorder.clock.now(), self.interval))
                return NOT_DUE
        report = await self.recorder.run_push(self.runner, retry_failed=self.retry_failed and first)
        return PushPass(report, self.client.usage.calls)

    async def rest(self) -> None:
        await self.waiter.wait(timeout=self.interval)  # the interval is the safety net

    async def hold(self) -> None:
        """Nothing runs between passes."""


def nothing_to_push(profile: Profile, name: str, *, preview: bool = False) -> Gated | Idle | None:
    """Why a push of ``name`` would write nothing (None when it has steps to run): its
    outbound steps await review, or it has none."""
    if profile.outbound_steps(preview=preview):
        return None
    held = profile.awaiting_review()
    if held:
        return Gated(
            "awaiting_review",
            f"nothing pushed: the outbound steps ({', '.join(held)}) are off until "
            f"reviewed; {review_hint(name, held)}",
        )
    return Idle("the profile has no enabled outbound steps")


async def preview_push(store: PeopleStore, client: SalesforceClient, name: str) -> dict[str, Any]:
    """What a push would create, update, delete and reject (counts and samples); it looks
    records up but writes nothing."""
    steps = (await load_profile(store, name)).outbound_steps(preview=True)
    dry = PreviewClient(client)
    runner = OutboundRunner(dry, store, steps, SystemClock(), integration=name, dry_run=True)
    return preview_summary(await runner.run_once(), dry)


async def push_passes(
    store: PeopleStore,
    statuses: StatusStore,
    client: SalesforceClient,
    name: str,
    *,
    follow: bool,
    interval: float = 2.0,
    retry_failed: bool = False,
    recheck: float = RECHECK.total_seconds(),
    events: EventSink = ignore,
) -> Finished | Idle | Gated | Failed:
    """Passes of the profile's enabled outbound steps through the gated loop, once or
    (``follow``) until cancelled, following when their shared schedule makes them due
    (``sync.schedule``); ``events`` hears each pass as a :class:`PushPass`. Idle without
    outbound steps."""
    steps = (await load_profile(store, name)).outbound_steps()
    if not steps:  # running without steps would move past changes nobody pushed
        return Idle("the profile has no enabled outbound steps")
    clock = SystemClock()
    runner = OutboundRunner(client, store, steps, clock, integration=name)
    recorder = StatusRecorder(statuses, name, client, clock, recheck=recheck)
    await recorder.install_budget()
    schedules = (
        ScheduleKeeper(store, recorder.store, name, clock, Direction.OUTBOUND) if follow else None
    )
    waiter = await store.change_waiter()
    body = _PushBody(
        runner,
        recorder,
        client,
        interval=interval,
        retry_failed=retry_failed,
        schedules=schedules,
        waiter=waiter,
    )
    try:
        return await run_gated(
            body, recorder, clock, follow=follow, interval=interval, events=events
        )
    finally:
        await recorder.flush()
        await waiter.close()


__all__ = ["PushPass", "nothing_to_push", "preview_push", "push_passes"]
