"""The push loop of ``push run --follow`` starts a pass when a People change commits, not at
its timer (SQLite in-process, PostgreSQL through LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio

from peoplesync.sync.outbound.runner import OutboundReport
from peoplesync.sync.status.store import StatusStore
from peoplesync.workers.events import Event, PassDone
from peoplesync.workers.push import PushPass, push_passes

from .conftest import World
from .test_outbound import add, edit, linked, record

# The loop's timer: far longer than the test may wait, so only a wake-up can start a pass.
TIMER = 600.0
WAIT = 60.0


async def test_an_edit_starts_the_next_pass_long_before_the_timer(world: World) -> None:
    person = await add(world, emails=["wake@push.example"], last_name="Wake", company="Up")
    reports: asyncio.Queue[OutboundReport] = asyncio.Queue()

    def heard(event: Event) -> None:
        if isinstance(event, PassDone) and isinstance(event.report, PushPass):
            reports.put_nowait(event.report.report)

    loop = asyncio.create_task(
        push_passes(
            world.store,
            StatusStore(world.store.engine, world.store.clock),
            world.leads.client,
            "default",
            follow=True,
            interval=TIMER,
            events=heard,
        )
    )
    try:
        first = await asyncio.wait_for(reports.get(), WAIT)  # the first pass: a new Lead
        assert first.created == 1, first.summary()
        lead = await linked(world, person)
        await edit(world, person, title="Woken by the commit")
        second = await asyncio.wait_for(reports.get(), WAIT)
        assert second.updated == 1
        assert (await record(world.org, "Lead", lead))["Title"] == "Woken by the commit"
    finally:
        loop.cancel()
        ended = await asyncio.gather(loop, return_exceptions=True)
    assert isinstance(ended[0], asyncio.CancelledError), ended  # it ran until cancelled
