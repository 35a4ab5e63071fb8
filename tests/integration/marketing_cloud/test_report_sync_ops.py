"""Report write-back operations against the Marketing Cloud sandbox (ASGI), on SQLite and
PostgreSQL: tracked clicks land in Unified URL Tracking (or the clicks webhook), one pass per
unit at a time (a second copy skips while the first holds the lease, takes over a dead one's),
and each pass reads only rows changed since the unit's cursor, crash-safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.errors import LeaseLostError
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS, UNIFIED_URL_TRACKING
from peoplesync.marketing_cloud.report_sync import ReportSync, SyncOutcome
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.messaging.click_reports import ClickReport
from peoplesync.messaging.links.devices import MOBILE, Device
from peoplesync.messaging.links.provider_clicks import ProviderClicks
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.links.tables import link_clicks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.tables import inbound_messages, message_reports
from tests.integration.marketing_cloud.sandbox_unit import MID, SandboxUnit
from tests.integration.marketing_cloud.test_report_sync import (
    DONE,
    EVENT_KEY,
    HOOKS,
    _callback,
    _info,
    _seed,
    _sync,
)


async def _click(engine: AsyncEngine, message: str, mid: str, device: str = "mobile") -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(link_clicks).values(
                code=f"c-{message}-{device}"[:16],
                message_id=message,
                recipient="41793026727",
                url=f"https://shop.example/{message}",
                clicked_at=DONE + timedelta(minutes=3),
                device_type=device,
                os="iOS",
                device_name="iPhone",
                callback_data=_callback(mid, "C-1"),
                channel="sms",
            )
        )


async def _tracked(unit: SandboxUnit) -> list[dict[str, Any]]:
    rows = await unit.client.read_rows(UNIFIED_URL_TRACKING.key)
    return [item["keys"] | item["values"] for item in rows["items"]]


async def test_a_tracked_click_lands_in_unified_url_tracking(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _seed(engine)
    await _click(engine, "s1", MID)
    await _click(engine, "s2", MID, device="bot")  # a link preview: no click of the person's
    await _click(engine, "x1", "999")  # another unit's message
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, _):
        outcome = await sync.run_once()
        assert outcome.written["clicks"] == 1 and not outcome.errors
        [row] = await _tracked(unit)
        assert row["messageid"] == "s1" and row["url"] == "https://shop.example/s1"
        assert row["senddatetime"] == "2026-12-05T06:03:00.000"  # UTC-6
        assert row["devicetype"] == "mobile" and row["channel"] == "sms"
        assert row["contactkey"] == "C-1" and row["mid"] == MID
        assert (await sync.run_once()).written["clicks"] == 0
        assert len(await _tracked(unit)) == 1


PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


async def test_a_followed_tracked_link_becomes_a_row_in_the_sandbox(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The whole way: a journey's message with a tracked link is queued, its short link is
    followed from a phone, and the next pass writes the click into Unified URL Tracking."""
    clock = ManualClock(DONE)
    outbox = Outbox(engine, clock, link_base="https://go.example")
    request = {"to": "+41793026727", "text": "Sale https://shop.example/sale", "trackClicks": True}
    request |= {"shortenUrl": True}
    draft = MessageDraft("journey-1", "main", "sms", request, _callback(MID, "C-9"))
    [queued] = await outbox.enqueue([draft])
    links = ShortLinks(engine, clock)
    [link] = await links.links_of(queued.message_id)
    code = str(link["short_url"]).rsplit("/", 1)[1]
    clock.advance(timedelta(minutes=5))
    assert await links.follow(code, PHONE) == "https://shop.example/sale"
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, _):
        assert (await sync.run_once()).written["clicks"] == 1
        [row] = await _tracked(unit)
        assert row["messageid"] == queued.message_id and row["url"] == "https://shop.example/sale"
        assert row["senddatetime"] == "2026-12-05T06:05:00.000"  # 12:05 UTC in UTC-6
        assert row["devicetype"] == "mobile" and row["os"] == "iOS 17.1"
        assert row["contactkey"] == "C-9" and row["recipient"] == "41793026727"


async def test_clicks_go_to_the_clicks_webhook_when_external(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _seed(engine)
    await _click(engine, "s1", MID)
    info = _info(
        report_storage="external",
        reports_webhook_url=f"{HOOKS}/reports",
        inbound_webhook_url=f"{HOOKS}/inbound",
        clicks_webhook_url=f"{HOOKS}/clicks",
    )
    async with _sync(engine, tmp_path, info) as (sync, unit, hooks, _):
        outcome = await sync.run_once()
        assert outcome.written["clicks"] == 1
        [clicks] = [body for body in hooks.bodies if body["kind"] == "clicks"]
        assert clicks["dataExtension"] == "Unified URL Tracking"
        assert clicks["rows"][0]["url"] == "https://shop.example/s1"
        assert await _tracked(unit) == []


async def test_a_second_copy_skips_while_the_first_holds_the_unit(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(engine)
    clock = ManualClock(DONE)
    async with _sync(engine, tmp_path, _info(event_definition_key=EVENT_KEY)) as (
        first,
        unit,
        _hooks,
        marks,
    ):
        await unit.client.call(
            "POST", "/interaction/v1/eventDefinitions", json={"eventDefinitionKey": EVENT_KEY}
        )
        await marks.remember_trigger("s1")
        first.lease = SyncLease(engine, clock, "acme")
        second = ReportSync(first.unit, marks, unit.client, unit.client.http)
        second.lease = SyncLease(engine, clock, "acme")
        during: list[SyncOutcome] = []
        real_mark = marks.mark

        async def mark_then_second(*args: Any) -> None:
            await real_mark(*args)
            if not during:  # the second copy starts while the first is mid-pass
                during.append(await second.run_once())

        monkeypatch.setattr(marks, "mark", mark_then_second)
        done = await first.run_once()
        monkeypatch.setattr(marks, "mark", real_mark)
        [skipped] = during
        assert skipped.locked_until == DONE + timedelta(seconds=120)
        assert skipped.total == 0 and skipped.events == 0
        assert done.events == 1 and done.written["sms"] == 2
        fired = await unit.client.call("GET", "/sandbox/events", params={"key": EVENT_KEY})
        assert len(fired["items"]) == 1
        # the first released the lease: the second's next pass runs (and finds nothing new)
        after = await second.run_once()
        assert after.locked_until is None and after.total == 0 and after.events == 0


async def test_a_dead_holders_lease_is_taken_over_and_the_old_holder_stops(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(DONE)
    dead, alive = SyncLease(engine, clock, "acme"), SyncLease(engine, clock, "acme")
    other_unit = SyncLease(engine, clock, "globex")
    assert await dead.acquire()
    assert await other_unit.acquire()  # units are locked apart
    assert not await alive.acquire()
    clock.advance(timedelta(seconds=119))
    assert not await alive.acquire()
    clock.advance(timedelta(seconds=2))  # the dead holder's lease ran out
    assert await alive.acquire()
    with pytest.raises(LeaseLostError, match="taken over"):
        await dead.renew()
    await alive.renew()
    await alive.release()
    assert await dead.acquire()


async def test_a_pass_reads_only_rows_changed_since_its_cursor(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, marks):
        await sync.run_once()
        cursor = await marks.cursor("acme", "sms")
        assert cursor is not None
        # an old row changed long before the cursor (less the margin) is not read again...
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(message_reports)
                .where(message_reports.c.message_id == "s1")
                .values(status_group_name="EXPIRED")
            )
            await conn.execute(
                sa.update(message_reports)
                .where(message_reports.c.message_id == "s1")
                .values(changed_at=cursor - timedelta(hours=1))
            )
        page = await marks.report_page("acme", MID, "sms", None, 100, cursor - timedelta(minutes=2))
        assert page.rows == []
        # ...a row changed now is
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(message_reports)
                .where(message_reports.c.message_id == "s2")
                .values(status_group_name="EXPIRED")
            )
        outcome = await sync.run_once()
        assert outcome.written["sms"] == 1
        stored = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key)
        names = {
            item["keys"]["messageid"]: item["values"]["statusgroupname"] for item in stored["items"]
        }
        assert names == {"s1": "DELIVERED", "s2": "EXPIRED"}
        later = await marks.cursor("acme", "sms")
        assert later is not None and later > cursor


async def test_a_kill_between_write_and_cursor_neither_loses_nor_doubles(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, marks):
        real = marks.save_cursor

        async def killed(*args: Any) -> None:
            raise RuntimeError("SIGKILL before the cursor commit")

        monkeypatch.setattr(marks, "save_cursor", killed)
        with pytest.raises(RuntimeError):
            await sync.run_once()
        assert await marks.cursor("acme", "sms") is None  # never committed
        monkeypatch.setattr(marks, "save_cursor", real)
        again = await sync.run_once()
        # sms rows re-read from the old cursor, but the marks skip them; the kinds the killed
        # pass never reached are written now
        assert again.written == {"sms": 0, "omni": 1, "clicks": 0, "inbound": 1}
        assert (await unit.client.read_rows(SMS_DELIVERY_REPORTS.key))["count"] == 2
        assert await marks.cursor("acme", "sms") is not None


async def test_a_click_reported_late_by_the_provider_is_still_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The provider posts a click hours after it happened (its report retry schedule): the
    clicks cursor has moved past the click's time, yet the next pass writes it, once."""
    await _seed(engine)
    await _click(engine, "s1", MID)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, marks):
        assert (await sync.run_once()).written["clicks"] == 1
        cursor = await marks.cursor("acme", "clicks")
        assert cursor is not None
        late = ClickReport(
            key="late-click",
            message_id="s2",
            recipient="41793026727",
            url="https://shop.example/s2",
            clicked_at=cursor - timedelta(hours=3),
            device=Device(MOBILE, "Android", None),
            callback_data=_callback(MID, "C-2"),
        )
        assert (await ProviderClicks(engine).apply([late])).stored == 1
        assert (await sync.run_once()).written["clicks"] == 1
        assert {row["messageid"] for row in await _tracked(unit)} == {"s1", "s2"}
        assert (await sync.run_once()).written["clicks"] == 0


async def test_a_row_changed_again_during_a_long_pass_is_written_by_the_next(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass reads s1, then s1 changes while the pass goes on for minutes and reads rows
    changed later than s1's change: the cursor must not skip s1's change."""
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, marks):
        sync._page_size = 1
        real_mark = marks.mark

        async def mark_then_change(unit_name: str, kind: str, written: Any) -> None:
            await real_mark(unit_name, kind, written)
            if kind == "sms" and written[0].key == "s1":
                async with engine.begin() as conn:
                    await conn.execute(
                        sa.update(message_reports)
                        .where(message_reports.c.message_id == "s1")
                        .values(status_group_name="EXPIRED")
                    )
                    # s2 changes ten minutes on, before the long pass reads it
                    await conn.execute(
                        sa.update(message_reports)
                        .where(message_reports.c.message_id == "s2")
                        .values(changed_at=datetime.now(UTC) + timedelta(minutes=10))
                    )

        monkeypatch.setattr(marks, "mark", mark_then_change)
        assert (await sync.run_once()).written["sms"] == 2
        monkeypatch.setattr(marks, "mark", real_mark)
        assert (await sync.run_once()).written["sms"] == 1
        stored = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key)
        names = {
            item["keys"]["messageid"]: item["values"]["statusgroupname"] for item in stored["items"]
        }
        assert names == {"s1": "EXPIRED", "s2": "DELIVERED"}


async def _replies(engine: AsyncEngine, marks: Any) -> None:
    """Replies r2 (to s2) and r3 (to w1) beside the seed's r1 (to s1), each asking for the
    unit's event."""
    async with engine.begin() as conn:
        for reply, sent in (("r2", "s2"), ("r3", "w1")):
            await conn.execute(
                sa.insert(inbound_messages).values(
                    id=reply,
                    account="acct",
                    message_id=f"in-{reply}",
                    channel="sms",
                    sender="41793026727",
                    recipient="447491163443",
                    text="YES",
                    clean_text="YES",
                    keyword="YES",
                    received_at=DONE,
                    message_count=1,
                    in_reply_to=sent,
                    created_at=DONE,
                )
            )
    for sent in ("s1", "s2", "w1"):
        await marks.remember_trigger(sent)


async def test_slow_events_keep_the_lease_so_no_second_copy_fires_them_again(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event takes Marketing Cloud 100 s (429s waited out): the holder renews its
    lease event by event, so a second copy started meanwhile skips instead of firing the
    events not marked yet a second time."""
    await _seed(engine)
    clock = ManualClock(DONE)
    async with _sync(engine, tmp_path, _info(event_definition_key=EVENT_KEY)) as (
        first,
        unit,
        _hooks,
        marks,
    ):
        await unit.client.call(
            "POST", "/interaction/v1/eventDefinitions", json={"eventDefinitionKey": EVENT_KEY}
        )
        await _replies(engine, marks)
        first.lease = SyncLease(engine, clock, "acme")
        second = ReportSync(first.unit, marks, unit.client, unit.client.http)
        second.lease = SyncLease(engine, clock, "acme")
        real_fire = unit.client.fire_event
        during: list[SyncOutcome] = []
        started: list[int] = []

        async def slow_fire(*args: Any) -> str:
            clock.advance(timedelta(seconds=100))
            if len(started) < 2:  # a second copy starts during each of the first two events
                started.append(1)
                during.append(await second.run_once())
            return await real_fire(*args)

        monkeypatch.setattr(unit.client, "fire_event", slow_fire)
        done = await first.run_once()
        fired = await unit.client.call("GET", "/sandbox/events", params={"key": EVENT_KEY})
        assert len(fired["items"]) == 3  # one event a reply
        assert done.events == 3
        assert all(skipped.locked_until is not None for skipped in during)
