"""Drafts from many callers stored in shared transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
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
