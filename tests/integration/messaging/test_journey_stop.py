"""A stopped journey: its queued messages keep going at their spaced times (seeds/002,
"Journey stopping/pausing limitation"); only new messages for its send key are refused."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import StopError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.journey_stop import SendsStoppedError, stop_sends
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.sender import Sender
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from tests.integration.messaging.conftest import Rig, draft

JOURNEY = "journey:welcome:v1:activity-sms"
LIMIT = SpeedLimit(500, TimeUnit.HOUR)  # one every 7.2 s


async def test_queued_messages_are_sent_after_the_journey_stops(
    rig: Rig, clock: ManualClock
) -> None:
    queued = await rig.outbox.enqueue(
        [draft(f"c{n}", Channel.SMS, f"3859112345{n:02d}") for n in range(1, 6)],
        limit=LIMIT,
        limit_key=JOURNEY,
    )
    assert (await rig.sender.run_once()).accepted == 1  # the first slot is now
    assert await stop_sends(rig.store.engine, clock, JOURNEY) == 4  # still queued, still going
    with pytest.raises(SendsStoppedError) as refused:
        await rig.outbox.enqueue(
            [draft("late", Channel.SMS, "385911234599")], limit=LIMIT, limit_key=JOURNEY
        )
    assert isinstance(refused.value, StopError) and JOURNEY in str(refused.value)
    assert await rig.outbox.counts() == {"accepted": 1, "queued": 4}  # nothing of it stored
    # A restart: a new outbox and sender keep the stored spacing and ignore the stop.
    outbox = Outbox(rig.store.engine, clock)
    sender = Sender(outbox, rig.providers, rig.webhooks, clock)
    sent_at = []
    for _ in range(4):
        assert (await sender.run_once()).claimed == 0  # the next slot is 7.2 s away
        clock.advance(timedelta(seconds=7.2))
        assert (await sender.run_once()).accepted == 1
        sent_at.append(clock.now())
    states = [await outbox.get(q.message_id) for q in queued]
    assert [m.state for m in states if m is not None] == ["accepted"] * 5
    assert [b - a for a, b in itertools.pairwise(sent_at)] == [timedelta(seconds=7.2)] * 3
    stored = {m.message_id for m in await rig.sandbox.store.recent(10)}
    assert stored == {q.message_id for q in queued}  # each reached the provider once
    assert await rig.sandbox.store.count() == 5


async def test_a_new_journey_version_sends_under_its_own_key(rig: Rig, clock: ManualClock) -> None:
    await stop_sends(rig.store.engine, clock, JOURNEY)
    assert await stop_sends(rig.store.engine, clock, JOURNEY) == 0  # stopping twice is fine
    [fresh] = await rig.outbox.enqueue(
        [draft("v2", Channel.SMS, "385911234501")],
        limit=LIMIT,
        limit_key="journey:welcome:v2:activity-sms",
    )
    assert fresh.status == "Success: Message pending"
    # Messages without a send key are not affected either.
    [plain] = await rig.outbox.enqueue([draft("cli", Channel.SMS, "385911234502")])
    assert plain.status == "Success: Message pending"
    assert (await rig.sender.run_once()).accepted == 2


async def test_the_worker_waits_exactly_until_the_next_slot(rig: Rig, clock: ManualClock) -> None:
    assert await rig.sender.pause(0.2) == 0.2  # nothing queued
    await rig.outbox.enqueue(
        [draft(f"s{n}", Channel.SMS, f"3859112345{n:02d}") for n in range(1, 3)],
        limit=SpeedLimit(20 * 60, TimeUnit.MINUTE),  # 20 a second: one every 50 ms
        limit_key=JOURNEY,
    )
    assert (await rig.sender.run_once()).accepted == 1
    assert await rig.sender.pause(0.2) == pytest.approx(0.05)
    assert await rig.sender.pause(0.01) == 0.01  # never longer than asked
    clock.advance(timedelta(seconds=0.05))
    assert (await rig.sender.run_once()).accepted == 1
