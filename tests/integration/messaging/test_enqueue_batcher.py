"""Drafts from many callers stored in shared transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.enqueue_batcher import EnqueueBatcher
from peoplesync.messaging.outbox import Enqueued, MessageDraft, Outbox
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from tests.unit.messaging.test_channel_validation import VALID


def draft(n: int, key: str | None = None) -> MessageDraft:
    request = VALID[Channel.SMS] | {"to": f"38591{n:07d}"}
    return MessageDraft(key or f"k{n}", "main", "sms", request)


class CountingOutbox(Outbox):
    def __init__(self, engine: AsyncEngine, clock: ManualClock) -> None:
        super().__init__(engine, clock)
        self.calls = 0

    async def enqueue(self, drafts: Any, **options: Any) -> list[Enqueued]:
        self.calls += 1
        return await super().enqueue(drafts, **options)


async def test_concurrent_callers_share_transactions_and_each_get_their_own_answer(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = CountingOutbox(engine, clock)
    batcher = EnqueueBatcher(outbox, max_batch=100, max_wait=0.01)
    answers = await asyncio.gather(*(batcher.enqueue(draft(n)) for n in range(250)))
    assert len({a.message_id for a in answers}) == 250
    assert all(a.status == "Success: Message pending" for a in answers)
    assert outbox.calls <= 5  # 250 drafts, batches of at most 100
    again = await asyncio.gather(batcher.enqueue(draft(7)), batcher.enqueue(draft(7)))
    assert again[0].message_id == again[1].message_id == answers[7].message_id
    assert again[0].duplicate
    assert len(await outbox.recent(limit=1000)) == 250


async def test_a_speed_limited_group_keeps_its_even_spacing(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    batcher = EnqueueBatcher(outbox, max_wait=0.01)
    limit = SpeedLimit(60, TimeUnit.MINUTE)
    limited = [batcher.enqueue(draft(n), limit=limit, limit_key="j1:a1") for n in range(5)]
    free = [batcher.enqueue(draft(100 + n)) for n in range(5)]
    done = await asyncio.gather(*limited, *free)
    queued = {m.id: m for m in await outbox.recent(limit=100)}
    slots = sorted(queued[e.message_id].send_after for e in done[:5])
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(slots)}
    assert gaps == {1.0}
    assert {queued[e.message_id].send_after for e in done[5:]} == {clock.now()}


async def test_a_failed_batch_fails_each_caller(engine: AsyncEngine, clock: ManualClock) -> None:
    class Broken(Outbox):
        async def enqueue(self, drafts: Any, **options: Any) -> list[Enqueued]:
            raise RuntimeError("database went away")

    batcher = EnqueueBatcher(Broken(engine, clock), max_wait=0.001)
    results = await asyncio.gather(
        batcher.enqueue(draft(1)), batcher.enqueue(draft(2)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    await batcher.close()


@pytest.mark.parametrize("count", [1, 3])
async def test_close_stores_what_waits(engine: AsyncEngine, clock: ManualClock, count: int) -> None:
    outbox = Outbox(engine, clock)
    batcher = EnqueueBatcher(outbox, max_wait=60)
    waiting = [asyncio.ensure_future(batcher.enqueue(draft(n))) for n in range(count)]
    await asyncio.sleep(0)
    await batcher.close()
    assert len({(await w).message_id for w in waiting}) == count


async def _until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition`` holds (failing after 5 s rather than hanging)."""
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


class HeldOutbox(Outbox):
    """Holds each batch until the test lets it go; counts batches in flight."""

    def __init__(self, engine: AsyncEngine, clock: ManualClock) -> None:
        super().__init__(engine, clock)
        self.go = asyncio.Event()
        self.running = 0
        self.most_running = 0
        self.sizes: list[int] = []

    async def enqueue(self, drafts: Any, **options: Any) -> list[Enqueued]:
        self.sizes.append(len(drafts))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.go.wait()
            return await super().enqueue(drafts, **options)
        finally:
            self.running -= 1


async def test_a_second_batch_is_taken_while_the_first_is_stored_and_no_third(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = HeldOutbox(engine, clock)
    batcher = EnqueueBatcher(outbox, max_wait=0.001)
    calls = []
    for wave in range(4):  # each wave waits out the window before the next arrives
        calls += [asyncio.ensure_future(batcher.enqueue(draft(10 * wave + n))) for n in range(3)]
        started = min(wave + 1, 2)
        await _until(lambda: len(outbox.sizes) >= started)  # noqa: B023 (awaited here)
    await asyncio.sleep(0.01)
    assert outbox.running == 2  # two batches stored at once (one did, before) ...
    assert outbox.sizes == [3, 3]  # ... and the two later waves wait as one
    outbox.go.set()
    answers = await asyncio.gather(*calls)
    assert outbox.most_running == 2
    assert sorted(outbox.sizes) == [3, 3, 6]
    assert len({a.message_id for a in answers}) == 12
    await batcher.close()


async def test_two_batches_at_once_keep_one_message_per_key(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = HeldOutbox(engine, clock)
    batcher = EnqueueBatcher(outbox, max_wait=0.001)
    first = asyncio.ensure_future(batcher.enqueue(draft(1, key="same")))
    await _until(lambda: len(outbox.sizes) == 1)
    second = asyncio.ensure_future(batcher.enqueue(draft(2, key="same")))
    await _until(lambda: len(outbox.sizes) == 2)
    outbox.go.set()
    one, two = await asyncio.gather(first, second)
    assert one.message_id == two.message_id
    assert [one.duplicate, two.duplicate].count(True) == 1
    assert await outbox.counts() == {"queued": 1}
