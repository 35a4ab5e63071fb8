"""The outbox's writes: what a claim reads under the write lock, and the in-process write gate."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.people.database import create_engine
from peoplesync.people.write_gate import write_gate
from tests.conftest import _migrated_sqlite_file
from tests.unit.messaging.test_channel_validation import VALID


def _draft(n: int) -> MessageDraft:
    return MessageDraft(f"k{n}", "main", "sms", VALID[Channel.SMS] | {"to": f"38591{n:07d}"})


@pytest.fixture
async def sqlite_engine(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite file: the gate and the query plans are SQLite's alone."""
    await _migrated_sqlite_file(tmp_path / "people.db", tmp_path_factory.getbasetemp())
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'people.db'}")
    yield engine
    await engine.dispose()


async def test_a_claim_finds_its_rows_by_key_not_by_scanning_the_outbox(
    sqlite_engine: AsyncEngine, clock: ManualClock
) -> None:
    """Every statement of a claim runs under the write lock: none may read the whole outbox
    (the claimed rows were once looked up by their claim mark, which has no index)."""
    engine = sqlite_engine
    outbox = Outbox(engine, clock)
    await outbox.enqueue([_draft(n) for n in range(20)])
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        claimed = await outbox.claim(5, timedelta(minutes=5))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(claimed) == 5
    assert {m.claimed_by for m in claimed} != {None}
    reads = [(s, p) for s, p in statements if "outbound_messages" in s]
    assert len(reads) >= 2
    with sqlite3.connect(str(engine.url.database)) as plain:
        for statement, parameters in reads:
            plan = plain.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            details = [row[3] for row in plan]
            assert not any(d.startswith("SCAN outbound_messages") for d in details), (
                statement,
                details,
            )


async def test_a_claim_returns_what_it_took_with_the_claim_mark(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    await outbox.enqueue([_draft(n) for n in range(6)])
    first = await outbox.claim(4, timedelta(minutes=5))
    second = await outbox.claim(4, timedelta(minutes=5))
    assert len(first) == 4 and len(second) == 2
    assert not {m.id for m in first} & {m.id for m in second}
    assert len({m.claimed_by for m in first}) == 1
    assert all(m.state == "sending" and m.attempts == 1 for m in first + second)
    assert [m.send_after for m in first] == sorted(m.send_after for m in first)
    assert first[0].request["to"].startswith("38591")


async def test_writers_of_one_sqlite_file_wait_at_the_gate_in_process(
    sqlite_engine: AsyncEngine, clock: ManualClock
) -> None:
    """While the gate is held, an enqueue does not start its transaction (it would otherwise
    sleep in SQLite's busy handler); it goes on as soon as the gate is let go."""
    engine = sqlite_engine
    outbox = Outbox(engine, clock)
    gate = write_gate(engine)
    await outbox.enqueue([_draft(0)])  # a pooled connection: the next one starts at once
    began: list[str] = []

    def begin(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        began.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", begin)
    try:
        async with gate:
            task = asyncio.ensure_future(outbox.enqueue([_draft(1)]))
            done, _ = await asyncio.wait([task], timeout=0.2)  # ample to begin, were it free
            assert not done and not began
        [answer] = await task
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", begin)
    assert answer.status == "Success: Message pending"
    assert began[0] == "BEGIN IMMEDIATE"


async def test_two_engines_on_one_file_share_a_gate_and_others_have_none(
    tmp_path: Path,
) -> None:
    first = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    again = create_engine(f"sqlite+aiosqlite:///{tmp_path / '.' / 'a.db'}")
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    memory = create_engine("sqlite+aiosqlite:///:memory:")
    postgres = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never opened
    try:
        assert isinstance(write_gate(first), asyncio.Lock)
        assert write_gate(first) is write_gate(again)
        assert write_gate(first) is not write_gate(other)
        assert not isinstance(write_gate(memory), asyncio.Lock)
        assert not isinstance(write_gate(postgres), asyncio.Lock)
    finally:
        for each in (first, again, other, memory, postgres):
            await each.dispose()
