"""Report write-back as a unit of work and as ``serve``'s loops, against the Marketing Cloud
sandbox (ASGI), on SQLite and PostgreSQL: a pass is Finished with its rows, Idle when another
process holds the unit or it is gone, Failed (with a retry when it may help) and kept as the
unit's last pass; the loops pick up a unit added while they run and drop a removed one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.marketing_cloud.api_errors import MarketingCloudAuthError
from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys, UnitSettings
from peoplesync.messaging.tables import message_reports
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.secret_box import SecretBox
from peoplesync.workers.outcome import Failed, Finished, Idle
from peoplesync.workers.report_loops import ReportLoops
from peoplesync.workers.report_sync import LOOP, Connection, UnitPasses
from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    MID,
    SECRET,
    SandboxUnit,
    sandbox_unit,
)

DONE = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


async def seed(engine: AsyncEngine, *ids: str, mid: str = MID) -> None:
    callback = json.dumps({"MID": mid, "ContactKey": "C-7"}, separators=(",", ":"))
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(message_reports),
            [
                {
                    "message_id": each,
                    "channel": "sms",
                    "recipient": "385911",
                    "sent_at": DONE,
                    "done_at": DONE,
                    "status_group_name": "DELIVERED",
                    "callback_data": callback,
                }
                for each in ids
            ],
        )


def unit_settings(name: str = "acme", secret: str = SECRET, mid: str = MID) -> UnitSettings:
    return UnitSettings(
        name=name, mid=mid, client_id=CLIENT_ID, auth_url=f"{BASE}/", client_secret=secret
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxUnit]:
    async with sandbox_unit(tmp_path / "mc") as unit:
        await deploy(unit.client)
        yield unit


def passes_on(engine: AsyncEngine, clock: ManualClock, sandbox: SandboxUnit) -> UnitPasses:
    units = BusinessUnits(engine, SecretBox(Fernet.generate_key()), clock)

    @asynccontextmanager
    async def connect(keys: UnitKeys) -> AsyncIterator[Connection]:
        client = MarketingCloudClient(
            keys.info.auth_url,
            keys.info.client_id,
            keys.client_secret,
            keys.info.mid,
            sandbox.http,
            retry=RetryPolicy(attempts=2),
            sleep=lambda _: asyncio.sleep(0),
        )
        yield client, sandbox.http

    return UnitPasses(units, by="serve", connect=connect, retry_after=7.0)


async def stored(sandbox: SandboxUnit) -> set[str]:
    rows = await sandbox.client.read_rows(SMS_DELIVERY_REPORTS.key)
    return {item["keys"]["messageid"] for item in rows["items"]}


async def test_a_pass_finishes_with_its_rows_and_is_kept(
    engine: AsyncEngine, clock: ManualClock, sandbox: SandboxUnit
) -> None:
    passes = passes_on(engine, clock, sandbox)
    await passes.units.add(unit_settings())
    await seed(engine, "m1", "m2")
    first = await passes.run("acme")
    assert isinstance(first, Finished) and first.report.written["sms"] == 2
    assert await stored(sandbox) == {"m1", "m2"}
    last = await passes.last.get("acme")
    assert last is not None and last.written["sms"] == 2 and last.error is None
    assert last.by == "serve" and last.at == clock.now()
    again = await passes.run("acme")
    assert isinstance(again, Finished) and again.report.total == 0
    kept = await passes.last.get("acme")
    assert kept is not None and kept.total == 0


async def test_another_holder_or_a_missing_unit_is_idle(
    engine: AsyncEngine, clock: ManualClock, sandbox: SandboxUnit
) -> None:
    passes = passes_on(engine, clock, sandbox)
    await passes.units.add(unit_settings())
    await seed(engine, "m1")
    other = SyncLease(engine, clock, "acme")
    assert await other.acquire()
    held = await passes.run("acme")
    assert isinstance(held, Idle) and "another process holds" in held.reason
    assert await stored(sandbox) == set() and await passes.last.get("acme") is None
    await other.release()
    assert isinstance(await passes.run("acme"), Finished)
    gone = await passes.run("nobody")
    assert isinstance(gone, Idle) and "nobody" in gone.reason


async def test_failures_are_kept_with_their_error_and_retry(
    engine: AsyncEngine, clock: ManualClock, sandbox: SandboxUnit
) -> None:
    passes = passes_on(engine, clock, sandbox)
    await passes.units.add(unit_settings())
    await seed(engine, "m1")
    sandbox.knobs.fail_next_500 = 10  # more than the client's attempts
    down = await passes.run("acme")
    assert isinstance(down, Failed) and down.retry_in == 7.0  # retryable: try again
    kept = await passes.last.get("acme")
    assert kept is not None and kept.error and "500" in kept.error
    sandbox.knobs.fail_next_500 = 0
    await passes.units.add(unit_settings("wrong", secret="not-the-secret", mid="510000043"))
    await seed(engine, "w1", mid="510000043")
    refused = await passes.run("wrong")
    assert isinstance(refused, Failed) and refused.retry_in is None
    assert isinstance(refused.error, MarketingCloudAuthError)
    wrong = await passes.last.get("wrong")
    assert wrong is not None and wrong.error and "not-the-secret" not in wrong.error
    assert isinstance(await passes.run("acme"), Finished)
    assert (await passes.last.get("acme")) is not None
    assert (await passes.last.all())["acme"].error is None


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for ``check`` (a generous deadline only against a hang; no timing asserted)."""
    for _ in range(2_000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_loops_pick_up_a_unit_added_while_running_and_drop_a_removed_one(
    engine: AsyncEngine, clock: ManualClock, sandbox: SandboxUnit
) -> None:
    passes = passes_on(engine, clock, sandbox)
    said: list[str] = []
    stopping = asyncio.Event()
    heartbeats = Heartbeats(clock)
    loops = ReportLoops(
        passes, heartbeats, stopping, say=said.append, interval=0.05, check_every=0.02
    )
    running = asyncio.create_task(loops.run())
    try:
        await asyncio.sleep(0.05)
        assert loops.running() == []  # no unit yet
        await seed(engine, "m1", "m2")
        await passes.units.add(unit_settings())  # as the web app adds it

        async def written() -> bool:
            return any("acme: wrote 2 report row(s)" in line for line in said)

        await until(written, "the added unit's rows written back")
        assert await stored(sandbox) == {"m1", "m2"}
        assert loops.running() == ["acme"]
        assert ("acme", LOOP) in {(beat.integration, beat.loop) for beat in heartbeats.beats()}
        await seed(engine, "m3")  # a later report goes by itself too

        async def third() -> bool:
            return "m3" in await stored(sandbox)

        await until(third, "a later report written back")
        await passes.units.remove("acme")

        async def dropped() -> bool:
            beating = {(beat.integration, beat.loop) for beat in heartbeats.beats()}
            return ("acme", LOOP) not in beating

        await until(dropped, "the removed unit's heartbeat dropped")
        assert loops.running() == []
        assert any("business unit is gone" in line for line in said)
    finally:
        stopping.set()
        await running
