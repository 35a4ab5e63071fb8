"""Report write-back as a unit of work and as ``serve``'s loops, against the Marketing Cloud
sandbox (ASGI), on SQLite and PostgreSQL: a pass is Finished with its rows, Idle when another
process holds the unit or it is gone, Failed (with a retry when it may help) and kept as the
unit's last pass; the loops pick up a unit added while they run and drop a removed one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.marketing_cloud.api_errors import MarketingCloudAuthError
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.workers.outcome import Failed, Finished, Idle
from peoplesync.workers.report_loops import ReportLoops
from peoplesync.workers.report_sync import LOOP
from tests.integration.marketing_cloud.sandbox_unit import SandboxUnit
from tests.integration.workers.mc_units import (
    deployed_sandbox,
    passes_on,
    seed,
    stored,
    unit_settings,
)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxUnit]:
    async with deployed_sandbox(tmp_path / "mc") as unit:
        yield unit


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
        assert await passes.last.get("acme") is None  # its last pass went with it
        assert any("business unit is gone" in line for line in said)
    finally:
        stopping.set()
        await running


async def test_loops_go_on_when_the_units_cannot_be_read(
    engine: AsyncEngine,
    clock: ManualClock,
    sandbox: SandboxUnit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes = passes_on(engine, clock, sandbox)
    await passes.units.add(unit_settings())
    await seed(engine, "m1")
    real = passes.names
    failures = [OSError("database went away")]

    async def flaky() -> list[str]:
        if failures:
            raise failures.pop()
        return await real()

    monkeypatch.setattr(passes, "names", flaky)
    said: list[str] = []
    stopping = asyncio.Event()
    loops = ReportLoops(
        passes, Heartbeats(clock), stopping, say=said.append, interval=0.05, check_every=0.02
    )
    running = asyncio.create_task(loops.run())
    try:

        async def written() -> bool:
            return any("acme: wrote 1 report row(s)" in line for line in said)

        await until(written, "the unit written back after the failed read")
        assert said[0] == "report write-back cannot read the business units (OSError)"
    finally:
        stopping.set()
        await running
