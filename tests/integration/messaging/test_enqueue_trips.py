"""An enqueue's round trips (SQLite and PostgreSQL): fresh drafts are inserted with no read
and no lock before them; the unique key, not a lock, keeps one key one message."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.links.tables import short_links
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.tables import message_events, outbound_messages
from peoplesync.people.database import create_engine
from tests.unit.messaging.test_channel_validation import VALID


def _draft(key: str, n: int = 0) -> MessageDraft:
    return MessageDraft(key, "main", "sms", VALID[Channel.SMS] | {"to": f"38591{n:07d}"})


async def _count(engine: AsyncEngine, table: sa.Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_fresh_drafts_are_inserted_with_nothing_read_or_locked_first(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    """Without a speed limit, storing a batch is its two inserts (SQLite, after BEGIN
    IMMEDIATE) or one statement (PostgreSQL): no advisory lock, no look for stored keys, no
    BEGIN and COMMIT cost a round trip each."""
    outbox = Outbox(engine, clock)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:60])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        answers = await outbox.enqueue([_draft(f"k{n}", n) for n in range(30)])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert [a.duplicate for a in answers] == [False] * 30
    if engine.dialect.name == "postgresql":  # one statement, outside a transaction
        assert len(statements) == 1, statements
        assert statements[0].startswith("WITH stored AS (INSERT INTO outbound_messages")
    else:
        assert [s.split(" (")[0] for s in statements] == [
            "BEGIN IMMEDIATE",
            "INSERT INTO outbound_messages",
            "INSERT INTO message_events",
        ], statements
    assert await _count(engine, outbound_messages) == 30
    [queued] = await outbox.events(answers[0].message_id)
    assert (queued["kind"], queued["at"]) == ("queued", clock.now().isoformat())
    assert queued["detail"] == {
        "status": answers[0].status,
        "field": None,
        "detail": answers[0].detail,
    }
    assert await _count(engine, message_events) == 30


async def test_stored_keys_answer_their_message_and_get_no_second_event(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    first = await outbox.enqueue([_draft("a", 1), _draft("b", 2)])
    again = await outbox.enqueue([_draft("b", 2), _draft("c", 3), _draft("a", 1), _draft("c", 3)])
    b, c, a, c_again = again
    [invalid] = await outbox.enqueue([MessageDraft("bad", "main", "sms", {"text": "x"})])
    [event] = await outbox.events(invalid.message_id)
    assert event["kind"] == "invalid" and invalid.field is not None
    assert event["detail"] == {
        "status": invalid.status,
        "field": invalid.field,
        "detail": invalid.detail,
    }
    assert (b.message_id, b.duplicate) == (first[1].message_id, True)
    assert (a.message_id, a.duplicate) == (first[0].message_id, True)
    assert (a.status, a.detail) == (first[0].status, first[0].detail)
    assert not c.duplicate and c_again == c  # one key twice in a batch: one message
    assert await _count(engine, outbound_messages) == 4
    assert await _count(engine, message_events) == 4


async def test_concurrent_batches_sharing_keys_store_each_key_once(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    """Two outboxes (as two processes) store overlapping keys at once, listed in opposite
    orders: no error (no deadlock, no unique violation), one message and one event per key,
    and both answers name it."""
    one, two = Outbox(engine, clock), Outbox(engine, clock)
    keys = [f"k{n:02d}" for n in range(40)]
    left, right = await asyncio.gather(
        one.enqueue([_draft(k) for k in keys]),
        two.enqueue([_draft(k) for k in reversed(keys)] + [_draft("only-two")]),
    )
    right_by_key = dict(zip([*reversed(keys), "only-two"], right, strict=True))
    for key, answer in zip(keys, left, strict=True):
        assert right_by_key[key].message_id == answer.message_id
        assert [answer.duplicate, right_by_key[key].duplicate].count(True) == 1
    assert await _count(engine, outbound_messages) == 41
    assert await _count(engine, message_events) == 41


async def test_a_retried_draft_with_links_leaves_no_codes_behind(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    """The codes planned for a retry's message (not stored: its key was) are removed."""
    outbox = Outbox(engine, clock, link_base="https://people.test")
    request = {"to": "385911234567", "text": "See https://a.example/x", "shortenUrl": True}
    draft = MessageDraft("k", "main", "sms", request)
    [first] = await outbox.enqueue([draft])
    [again] = await outbox.enqueue([draft])
    assert again.message_id == first.message_id and again.duplicate
    async with engine.connect() as conn:
        owners = (await conn.execute(sa.select(short_links.c.message_id))).scalars().all()
    assert owners == [first.message_id]


async def test_a_connection_lent_to_a_one_statement_enqueue_goes_back_transactional(
    database_url: str, clock: ManualClock
) -> None:
    """PostgreSQL's one-statement enqueue runs in autocommit: the pool must hand the
    connection out again in transactions, or a claim's row locks would not hold."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        await Outbox(engine, clock).enqueue([_draft("a", 1)])
        async with engine.connect() as conn:  # the pool's one connection, used again
            transaction = await conn.begin()
            await conn.execute(sa.delete(outbound_messages))
            await transaction.rollback()  # in autocommit the delete would be kept
        assert await _count(engine, outbound_messages) == 1
    finally:
        await engine.dispose()
