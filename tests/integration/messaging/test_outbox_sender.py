"""The outbox and the send loop on SQLite and PostgreSQL, against the sandbox provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.providers.infobip.client import (
    InfobipAccount,
    InfobipProvider,
    RetryPolicy,
)
from peoplesync.messaging.sender import Sender
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from tests.unit.messaging.test_channel_validation import VALID

KEY = "k-outbox"


def _sms(key: str, to: str = "385911234567", **extra: object) -> MessageDraft:
    return MessageDraft(key, "main", "sms", VALID[Channel.SMS] | {"to": to} | extra)


@pytest.fixture
async def provider_http(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    config = ProviderConfig(tmp_path / "p", KEY, knobs=ProviderKnobs(rate_500=0.0))
    app = create_provider_app(config, run_reports=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://p.test"
        ) as http,
    ):
        yield http, app.state.provider


def _sender(outbox: Outbox, http: httpx.AsyncClient, clock: ManualClock, **kw: object) -> Sender:
    async def no_sleep(_: float) -> None:
        return None

    provider = InfobipProvider(
        InfobipAccount("main", "https://p.test", KEY), http, retry=RetryPolicy(2), sleep=no_sleep
    )
    return Sender(outbox, {"main": provider}, Webhooks(), clock, **kw)  # type: ignore[arg-type]


async def test_enqueue_is_idempotent_and_invalid_requests_get_their_status(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    first = await outbox.enqueue([_sms("a"), _sms("b", to="")])
    assert [e.status for e in first] == [
        "Success: Message pending",
        "Error: Missing phone number in request",
    ]
    assert first[1].field == "to"
    again = await outbox.enqueue([_sms("a", text="changed")])
    assert again[0].duplicate and again[0].message_id == first[0].message_id
    assert await outbox.counts() == {"queued": 1, "invalid": 1}
    # Two drafts with one key in the same call are one message too.
    twice = await outbox.enqueue([_sms("c"), _sms("c")])
    assert twice[0].message_id == twice[1].message_id


async def test_sender_sends_once_and_records_answers(
    engine: AsyncEngine, clock: ManualClock, provider_http: tuple[httpx.AsyncClient, object]
) -> None:
    http, sandbox = provider_http
    outbox = Outbox(engine, clock)
    queued = await outbox.enqueue(
        [_sms(f"k{n}", to=f"3859100000{n:02d}") for n in range(1, 11)] + [_sms("bad", "385911100")]
    )
    sender = _sender(outbox, http, clock)
    done = await sender.run_once()
    assert (done.claimed, done.accepted, done.rejected) == (11, 10, 1)
    assert (await sender.run_once()).claimed == 0
    rejected = await outbox.get(queued[-1].message_id)
    assert rejected is not None
    assert (rejected.state, rejected.provider_status) == ("rejected", "REJECTED_DESTINATION")
    events = await outbox.events(queued[0].message_id)
    assert [e["kind"] for e in events] == ["queued", "sent"]
    assert await sandbox.store.count() == 11  # type: ignore[attr-defined]


async def test_a_sender_killed_after_the_call_resends_with_the_same_id(
    engine: AsyncEngine, clock: ManualClock, provider_http: tuple[httpx.AsyncClient, object]
) -> None:
    http, sandbox = provider_http
    outbox = Outbox(engine, clock)
    await outbox.enqueue([_sms("once")])
    # A first sender claims and calls the provider, then dies before recording the answer.
    [claimed] = await outbox.claim(10, timedelta(seconds=30))
    from peoplesync.messaging.message import Message

    provider = InfobipProvider(InfobipAccount("main", "https://p.test", KEY), http)
    await provider.send(
        [Message(claimed.id, Channel.SMS, claimed.recipient, claimed.request)],
        bulk_id="x",
        webhooks=Webhooks(),
    )
    sender = _sender(outbox, http, clock, lease=timedelta(seconds=30))
    assert (await sender.run_once()).claimed == 0  # its lease still holds
    clock.advance(timedelta(seconds=31))
    done = await sender.run_once()
    assert (done.claimed, done.accepted) == (1, 1)
    message = await outbox.get(claimed.id)
    assert message is not None and message.attempts == 2
    assert message.detail == "taken by an earlier attempt"
    assert await sandbox.store.count() == 1  # type: ignore[attr-defined]


async def test_speed_limit_spaces_messages_and_survives_a_new_outbox(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    limit = SpeedLimit(500, TimeUnit.HOUR)
    first = Outbox(engine, clock)
    await first.enqueue([_sms(f"s{n}") for n in range(3)], limit=limit, limit_key="j1:v1:a1")
    restarted = Outbox(engine, clock)  # a restart: the next free slot comes from the database
    await restarted.enqueue([_sms("s3")], limit=limit, limit_key="j1:v1:a1")
    await restarted.enqueue([_sms("other")], limit=limit, limit_key="j1:v2:a1")
    rows = sorted(await restarted.recent(limit=10), key=lambda m: m.idempotency_key)
    start = clock.now()
    offsets = {m.idempotency_key: (m.send_after - start).total_seconds() for m in rows}
    assert offsets == {"s0": 0.0, "s1": 7.2, "s2": 14.4, "s3": 21.6, "other": 0.0}
    claimed = await restarted.claim(10, timedelta(seconds=60))
    assert {m.idempotency_key for m in claimed} == {"s0", "other"}


async def test_provider_down_keeps_messages_queued_for_later(
    engine: AsyncEngine, clock: ManualClock, tmp_path: Path
) -> None:
    config = ProviderConfig(tmp_path / "down", KEY, knobs=ProviderKnobs(rate_500=1.0))
    app = create_provider_app(config, run_reports=False)
    outbox = Outbox(engine, clock)
    await outbox.enqueue([_sms("d")])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://p.test"
        ) as http,
    ):
        done = await _sender(outbox, http, clock).run_once()
    assert (done.claimed, done.retried) == (1, 1)
    [message] = await outbox.recent()
    assert message.state == "queued"
    assert "500 E500" in message.detail
    assert message.send_after > clock.now()


async def test_concurrent_senders_never_claim_the_same_message(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    await outbox.enqueue([_sms(f"c{n}") for n in range(60)])
    ids: list[str] = []
    for _ in range(10):  # rounds of four claimers side by side until the queue is empty
        claims = await asyncio.gather(*(outbox.claim(10, timedelta(seconds=60)) for _ in range(4)))
        ids += [m.id for claim in claims for m in claim]
        if not any(claims):
            break
    assert len(ids) == len(set(ids)) == 60


def test_speed_limit_bounds() -> None:
    with pytest.raises(ValueError, match="1 to 100,000"):
        SpeedLimit(0, TimeUnit.MINUTE)
    with pytest.raises(ValueError, match="1 to 100,000"):
        SpeedLimit(100_001, TimeUnit.DAY)
    assert SpeedLimit(500, TimeUnit.HOUR).interval == timedelta(seconds=7.2)
    assert datetime(2026, 1, 1, tzinfo=UTC)  # keeps the import honest for the planner tests


async def test_a_stale_claim_records_nothing_over_a_newer_one(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    from peoplesync.messaging.message import Outcome, SendResult

    outbox = Outbox(engine, clock)
    await outbox.enqueue([_sms("stale")])
    [old] = await outbox.claim(5, timedelta(seconds=10))
    clock.advance(timedelta(seconds=11))
    [new] = await outbox.claim(5, timedelta(seconds=10))
    assert old.id == new.id and old.claimed_by != new.claimed_by
    answer = SendResult(old.id, Outcome.REJECTED, "REJECTED", "REJECTED_NETWORK", "late")
    assert await outbox.record([answer], claimed_by=old.claimed_by or "") == 0
    await outbox.release([old.id], clock.now(), "late", claimed_by=old.claimed_by or "")
    message = await outbox.get(old.id)
    assert message is not None and message.state == "sending"  # still the newer claim's
    assert [e["kind"] for e in await outbox.events(old.id)] == ["queued"]
    ok = SendResult(new.id, Outcome.ACCEPTED, "PENDING", "PENDING_ACCEPTED", "")
    assert await outbox.record([ok], claimed_by=new.claimed_by or "") == 1


async def test_concurrent_enqueues_share_keys_and_slots_correctly(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    limit = SpeedLimit(60, TimeUnit.MINUTE)
    outboxes = [Outbox(engine, clock) for _ in range(4)]
    same_key = await asyncio.gather(*(o.enqueue([_sms("one-key")]) for o in outboxes))
    assert len({result[0].message_id for result in same_key}) == 1
    await asyncio.gather(
        *(
            o.enqueue([_sms(f"slot-{n}-{m}") for m in range(3)], limit=limit, limit_key="lk")
            for n, o in enumerate(outboxes)
        )
    )
    slots = [m.send_after for m in await outboxes[0].recent(limit=50) if m.limit_key == "lk"]
    assert len(slots) == len(set(slots)) == 12  # one second apart, never two in one slot


async def test_an_account_added_after_the_sender_opened_is_read_before_the_try_fails(
    engine: AsyncEngine, clock: ManualClock, provider_http: tuple[httpx.AsyncClient, object]
) -> None:
    """A message for an account the sender does not know sends in the same round once the
    account is found (one look-up a round, not one a message); one for no account at all
    waits with the reason."""
    http, _sandbox = provider_http
    outbox = Outbox(engine, clock)
    provider = InfobipProvider(InfobipAccount("main", "https://p.test", KEY), http)
    looked_up: list[str] = []

    async def find(name: str) -> tuple[InfobipProvider, Webhooks] | None:
        looked_up.append(name)
        return (provider, Webhooks()) if name == "main" else None

    await outbox.enqueue([_sms("late1"), _sms("late2", to="385911234568")])
    await outbox.enqueue([MessageDraft("none", "gone", "sms", VALID[Channel.SMS])])
    sender = Sender(outbox, {}, Webhooks(), clock, find=find)
    done = await sender.run_once()
    assert (done.claimed, done.accepted, done.retried) == (3, 2, 1)
    assert sorted(looked_up) == ["gone", "main"]
    [waiting] = [m for m in await outbox.recent() if m.account == "gone"]
    assert waiting.detail == "no provider account named 'gone'"
