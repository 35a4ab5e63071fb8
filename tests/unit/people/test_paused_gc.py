"""The garbage collector pause held by coroutines across awaits."""

from __future__ import annotations

import asyncio
import gc

from peoplesync.people.bulk_writer import paused_gc


def test_interleaved_pauses_turn_the_collector_back_on_when_the_last_one_ends() -> None:
    async def batch(started: asyncio.Event, release: asyncio.Event) -> None:
        with paused_gc():
            started.set()
            await release.wait()

    async def main() -> tuple[bool, bool]:
        first_started, second_started = asyncio.Event(), asyncio.Event()
        first_release, second_release = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(batch(first_started, first_release))
        await first_started.wait()
        second = asyncio.create_task(batch(second_started, second_release))
        await second_started.wait()
        first_release.set()  # the first pause ends while the second is still open
        await first
        during = gc.isenabled()
        second_release.set()
        await second
        return during, gc.isenabled()

    assert gc.isenabled()
    during, after = asyncio.run(main())
    assert not during  # still paused for the second batch
    assert after  # and on again once both ended


def test_a_pause_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
