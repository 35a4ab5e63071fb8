"""Report write-back against the Marketing Cloud sandbox (ASGI), on SQLite and PostgreSQL:
rows land in the extensions with their columns and UTC-6 times, a second pass writes nothing,
a crash between write and mark re-sends idempotently, 429s are waited out, external storage
POSTs to webhooks, and a reply to a journey that asked for it fires one API event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.marketing_cloud.api_errors import MarketingCloudUnavailableError
from peoplesync.marketing_cloud.client import RetryPolicy
from peoplesync.marketing_cloud.data_extensions import (
    INBOUND_MESSAGES,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
)
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.report_sync import ReportSync
from peoplesync.marketing_cloud.units import UnitInfo
from peoplesync.messaging.tables import inbound_messages, message_reports, outbound_messages
from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    MID,
    SandboxUnit,
    sandbox_unit,
)

DONE = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
HOOKS = "https://hooks.test"
EVENT_KEY = "peoplesync-reply"


def _callback(mid: str, contact: str) -> str:
    fields = {"ActivityId": "act-1", "BulkId": "Welcome", "ContactKey": contact, "MID": mid}
    return json.dumps(fields | {"VersionId": "v-9"}, separators=(",", ":"))


async def _seed(engine: AsyncEngine, *, other_mid: str = "999") -> None:
    """Two SMS and one WhatsApp message of our unit, one SMS of another unit; a reply."""
    messages = [
        ("s1", "sms", MID, "C-1"),
        ("s2", "sms", MID, "C-2"),
        ("w1", "whatsapp", MID, "C-3"),
        ("x1", "sms", other_mid, "C-4"),
    ]
    async with engine.begin() as conn:
        for mid_, channel, unit_mid, contact in messages:
            await conn.execute(
                sa.insert(outbound_messages).values(
                    id=mid_,
                    idempotency_key=f"k-{mid_}",
                    account="acct",
                    channel=channel,
                    recipient="41793026727",
                    request={},
                    callback_data=_callback(unit_mid, contact),
                    state="delivered",
                    status="Sent",
                    send_after=DONE,
                    created_at=DONE,
                    sent_at=DONE,
                )
            )
            await conn.execute(
                sa.insert(message_reports).values(
                    message_id=mid_,
                    channel=channel,
                    recipient="41793026727",
                    message_count=1,
                    status_group_name="DELIVERED",
                    status_id=5,
                    error_permanent=False,
                    callback_data=_callback(unit_mid, contact),
                    sent_at=DONE,
                    done_at=DONE,
                    seen_at=DONE if channel == "whatsapp" else None,
                )
            )
        await conn.execute(
            sa.insert(inbound_messages).values(
                id="r1",
                account="acct",
                message_id="in-1",
                channel="sms",
                sender="41793026727",
                recipient="447491163443",
                text="YES please",
                clean_text="YES please",
                keyword="YES",
                received_at=DONE,
                message_count=1,
                in_reply_to="s1",
                created_at=DONE,
            )
        )


def _info(**changes: Any) -> UnitInfo:
    info = UnitInfo("acme", MID, CLIENT_ID, f"{BASE}/", True, False, None, None, "native", DONE)
    return replace(info, **changes)


@dataclass
class Hooks:
    """Webhook bodies received, and how many of the next posts answer 429."""

    bodies: list[dict[str, Any]]
    refuse: int = 0


class _Split(httpx.AsyncBaseTransport):
    def __init__(self, sandbox: httpx.AsyncBaseTransport, hooks: Hooks) -> None:
        self.sandbox, self.hooks = sandbox, hooks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(HOOKS):
            if self.hooks.refuse:
                self.hooks.refuse -= 1
                return httpx.Response(429, headers={"Retry-After": "3"})
            self.hooks.bodies.append(json.loads(request.content))
            return httpx.Response(204)
        return await self.sandbox.handle_async_request(request)


@asynccontextmanager
async def _sync(
    engine: AsyncEngine, tmp_path: Path, info: UnitInfo, **knobs: int
) -> AsyncIterator[tuple[ReportSync, SandboxUnit, Hooks, ReportMarks]]:
    async with sandbox_unit(tmp_path, **knobs) as unit:
        hooks = Hooks([])
        http = httpx.AsyncClient(transport=_Split(unit.http._transport, hooks))
        unit.client.http = http
        marks = ReportMarks(engine, ManualClock(DONE))
        await deploy(unit.client)

        async def sleep(seconds: float) -> None:
            unit.sleeps.append(seconds)

        sync = ReportSync(
            info, marks, unit.client, http, page_size=2, retry=RetryPolicy(), sleep=sleep
        )
        try:
            yield sync, unit, hooks, marks
        finally:
            await http.aclose()


async def _values(unit: SandboxUnit, key: str) -> dict[str, dict[str, Any]]:
    rows = await unit.client.read_rows(key)
    return {item["keys"]["messageid"]: item["values"] for item in rows["items"]}


async def test_rows_land_with_columns_and_server_times(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, _):
        outcome = await sync.run_once()
        assert (
            outcome.written == {"sms": 2, "omni": 1, "clicks": 0, "inbound": 1}
            and not outcome.errors
        )
        sms = await _values(unit, SMS_DELIVERY_REPORTS.key)
        assert set(sms) == {"s1", "s2"}  # x1 is another unit's message
        assert sms["s1"]["doneat"] == "2026-12-05T06:00:00.000"  # UTC-6
        assert sms["s1"]["statusgroupname"] == "DELIVERED"
        assert sms["s2"]["contactkey"] == "C-2" and sms["s2"]["bulkid"] == "Welcome"
        assert sms["s1"]["mid"] == MID and sms["s1"]["versionid"] == "v-9"
        omni = await _values(unit, OMNI_REPORTS.key)
        assert omni["w1"]["seenat"] == "2026-12-05T06:00:00.000"
        assert omni["w1"]["channel"] == "whatsapp"
        inbound = await _values(unit, INBOUND_MESSAGES.key)
        assert inbound["in-1"]["text"] == "YES please"
        assert inbound["in-1"]["inreplyto"] == "s1" and inbound["in-1"]["contactkey"] == "C-1"

        calls = unit.app.state.sandbox.calls
        again = await sync.run_once()
        assert again.total == 0 and unit.app.state.sandbox.calls == calls  # nothing sent

        # a seen report changes a row: that row, and only it, is written again
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(message_reports)
                .where(message_reports.c.message_id == "w1")
                .values(status_group_name="SEEN")
            )
        third = await sync.run_once()
        assert third.written == {"sms": 0, "omni": 1, "clicks": 0, "inbound": 0}
        assert (await _values(unit, OMNI_REPORTS.key))["w1"]["statusgroupname"] == "SEEN"


async def test_crash_between_write_and_mark_resends_idempotently(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, marks):
        real = marks.mark

        async def crash(*args: Any) -> None:
            raise RuntimeError("killed between write and mark")

        monkeypatch.setattr(marks, "mark", crash)
        with pytest.raises(RuntimeError):
            await sync.run_once()
        assert set(await _values(unit, SMS_DELIVERY_REPORTS.key)) == {"s1", "s2"}  # written
        monkeypatch.setattr(marks, "mark", real)
        resent = await sync.run_once()
        assert resent.written["sms"] == 2  # not marked: sent again...
        rows = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key)
        assert rows["count"] == 2  # ...as upserts: no duplicate
        assert (await sync.run_once()).total == 0


async def test_429_is_waited_out(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, _):
        unit.knobs.fail_next_429 = 2
        outcome = await sync.run_once()
        assert outcome.written["sms"] == 2 and not outcome.errors
        assert unit.app.state.sandbox.refused["429"] == 2
        assert unit.knobs.retry_after_seconds in unit.sleeps


async def test_external_storage_posts_rows_to_webhooks(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    info = _info(
        report_storage="external",
        reports_webhook_url=f"{HOOKS}/reports",
        inbound_webhook_url=f"{HOOKS}/inbound",
    )
    async with _sync(engine, tmp_path, info) as (sync, unit, hooks, _):
        hooks.refuse = 1  # the webhook's 429 is waited out too
        outcome = await sync.run_once()
        assert outcome.written == {"sms": 2, "omni": 1, "clicks": 0, "inbound": 1}
        kinds = [body["kind"] for body in hooks.bodies]
        assert kinds == ["sms", "omni", "inbound"]  # sms: one page of two rows
        sms = hooks.bodies[0]
        assert sms["dataExtension"] == "SMS Delivery Reports" and sms["businessUnit"] == "acme"
        first = {row["messageId"]: row for row in sms["rows"]}["s1"]
        assert first["doneAt"] == "2026-12-05T06:00:00.000" and first["ContactKey"] == "C-1"
        assert 3.0 in unit.sleeps
        assert (await unit.client.read_rows(SMS_DELIVERY_REPORTS.key))["count"] == 0
        assert (await sync.run_once()).total == 0 and len(hooks.bodies) == 3


async def test_reply_fires_one_api_event(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    async with _sync(engine, tmp_path, _info(event_definition_key=EVENT_KEY)) as (
        sync,
        unit,
        _,
        marks,
    ):
        created = await unit.client.call(
            "POST", "/interaction/v1/eventDefinitions", json={"eventDefinitionKey": EVENT_KEY}
        )
        assert created["eventDefinitionKey"] == EVENT_KEY
        assert (await sync.run_once()).events == 0  # the journey did not ask for it
        await marks.remember_trigger("s1")
        await marks.remember_trigger("s1")  # Journey Builder retried: kept once
        assert (await sync.run_once()).events == 1
        assert (await sync.run_once()).events == 0
        fired = (await unit.client.call("GET", "/sandbox/events", params={"key": EVENT_KEY}))[
            "items"
        ]
        assert len(fired) == 1
        assert fired[0]["contactKey"] == "C-1"
        assert fired[0]["data"]["text"] == "YES please"
        assert fired[0]["data"]["receivedAt"] == "2026-12-05T06:00:00.000"


async def test_a_bad_row_is_named_and_the_rest_written(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(message_reports)
            .where(message_reports.c.message_id == "s2")
            .values(callback_data=_callback(MID, "C" * 300))
        )
    async with _sync(engine, tmp_path, _info()) as (sync, unit, _, _):
        outcome = await sync.run_once()
        assert outcome.written["sms"] == 1
        [error] = outcome.errors
        assert error.record == f"{SMS_DELIVERY_REPORTS.key}[s2]" and error.field == "ContactKey"
        assert set(await _values(unit, SMS_DELIVERY_REPORTS.key)) == {"s1"}
        assert not (await sync.run_once()).errors  # reported once, until the row changes


async def test_a_webhook_that_refuses_marks_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    await _seed(engine)
    info = _info(report_storage="external", reports_webhook_url=f"{HOOKS}/reports")
    async with _sync(engine, tmp_path, info) as (sync, _, hooks, _):
        hooks.refuse = 100
        with pytest.raises(MarketingCloudUnavailableError, match="failed 6 times"):
            await sync.run_once()
        hooks.refuse = 0
        with pytest.raises(MarketingCloudUnavailableError, match="no inbound webhook URL"):
            await sync.run_once()
        assert [body["kind"] for body in hooks.bodies] == ["sms", "omni"]  # sent again, whole
