"""Deploy, upgrade and write-back through ``MarketingCloudClient`` against the sandbox over
ASGI: idempotence, rows kept on upgrade, sync vs async batching, 429s, token expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from peoplesync.marketing_cloud.api_errors import (
    MarketingCloudAuthError,
    MarketingCloudUnavailableError,
)
from peoplesync.marketing_cloud.client import MarketingCloudClient, client_for
from peoplesync.marketing_cloud.data_extensions import (
    DATA_EXTENSIONS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
)
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.units import UnitInfo, UnitKeys
from peoplesync.marketing_cloud.write_back import WritePolicy, write_rows
from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    MID,
    SECRET,
    sandbox_unit,
)


def _report(n: int) -> dict[str, object]:
    return {
        "messageId": f"m{n:05d}",
        "to": "41793026727",
        "statusGroupName": "DELIVERED",
        "statusId": 5,
        "errorPermanent": False,
        "doneAt": datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
    }


async def test_deploy_creates_all_then_changes_nothing(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        first = await deploy(unit.client)
        assert [each.created for each in first] == [True] * len(DATA_EXTENSIONS)
        calls = unit.app.state.sandbox.calls
        second = await deploy(unit.client)
        assert not any(each.changed for each in second)
        # a redeploy only reads: one search + one fields read per extension
        assert unit.app.state.sandbox.calls - calls == 2 * len(DATA_EXTENSIONS)
        fields = await unit.client.find_extension(SMS_DELIVERY_REPORTS.key)
        assert fields is not None
        by_name = {field["name"]: field for field in fields["fields"]}
        assert by_name["messageId"]["isPrimaryKey"] is True
        assert by_name["errorDescription"]["length"] == 1000
        assert by_name["pricePerMessage"]["type"] == "Decimal"
        assert "ContactKey" in by_name  # callback-data columns deployed too


async def test_upgrade_adds_missing_columns_and_keeps_rows(tmp_path: Path) -> None:
    old = replace(
        SMS_DELIVERY_REPORTS,
        columns=tuple(c for c in SMS_DELIVERY_REPORTS.columns if c.name not in {"sentAt", "MID"}),
    )
    async with sandbox_unit(tmp_path) as unit:
        await deploy(unit.client, [old])
        written = await write_rows(unit.client, old, [_report(n) for n in range(3)])
        assert written.written == 3
        upgraded = await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        assert upgraded[0].added == ("sentAt", "MID") and not upgraded[0].created
        again = await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        assert not again[0].changed
        rows = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key)
        assert rows["count"] == 3
        sent = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)
        await write_rows(
            unit.client, SMS_DELIVERY_REPORTS, [{"messageId": "m00001", "sentAt": sent}]
        )
        one = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key, where="messageId eq 'm00001'")
        values = one["items"][0]["values"]
        assert values["sentat"] == "2026-12-05T12:30:00.000"  # UTC-6, no offset
        assert values["statusgroupname"] == "DELIVERED"  # the upsert kept older columns


async def test_small_batches_go_sync_large_ones_async(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        small = await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(n) for n in range(49)])
        assert (small.mode, small.batches, small.written) == ("sync", 1, 49)
        policy = WritePolicy(async_batch=100)
        large = await write_rows(
            unit.client, SMS_DELIVERY_REPORTS, [_report(n) for n in range(49, 299)], policy
        )
        assert (large.mode, large.batches, large.written) == ("async", 3, 250)
        rows = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key, page_size=10)
        assert rows["count"] == 299
        stored = await unit.client.read_rows(
            SMS_DELIVERY_REPORTS.key, where="messageId eq 'm00100'"
        )
        assert stored["items"][0]["values"]["doneat"] == "2026-12-05T06:00:00.000"
        assert stored["items"][0]["values"]["errorpermanent"] == "false"
        # the same message in two batches in flight at once: the last one given wins
        repeated = [_report(n) for n in range(150)] + [{**_report(3), "statusGroupName": "EXPIRED"}]
        again = await write_rows(unit.client, SMS_DELIVERY_REPORTS, repeated, policy)
        assert (again.batches, again.written) == (2, 150)
        third = await unit.client.read_rows(SMS_DELIVERY_REPORTS.key, where="messageId eq 'm00003'")
        assert third["items"][0]["values"]["statusgroupname"] == "EXPIRED"


async def test_bad_rows_are_named_and_the_rest_written(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        await deploy(unit.client, [UNIFIED_URL_TRACKING])
        base = {"url": "https://x.test", "sendDateTime": "2026-12-05T06:00:00", "channel": "SMS"}
        rows: list[dict[str, object]] = [
            {**base, "messageId": "ok1"},
            {**base, "messageId": "bad", "colour": "red"},
            {**base, "messageId": "long", "deviceType": "x" * 51},
            {**base, "messageId": "ok2"},
        ]
        outcome = await write_rows(unit.client, UNIFIED_URL_TRACKING, rows)
        assert outcome.written == 2
        messages = sorted(str(error) for error in outcome.errors)
        assert "field 'colour'" in messages[0] and "bad" in messages[0]
        assert "field 'deviceType'" in messages[1] and "long" in messages[1]
        # the server refuses a value the local check lets through: only that row is lost
        refused = await write_rows(
            unit.client,
            UNIFIED_URL_TRACKING,
            [{**base, "messageId": "n1"}, {**base, "messageId": "n2", "sendDateTime": "soon"}],
        )
        assert refused.written == 1 and len(refused.errors) == 1
        assert "n2" in str(refused.errors[0]) and "sendDateTime" in str(refused.errors[0])


async def test_429_waits_for_retry_after_then_succeeds(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path, retry_after_seconds=3) as unit:
        await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        unit.knobs.fail_next_429 = 2
        outcome = await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(1)])
        assert outcome.written == 1
        assert unit.sleeps == [3.0, 3.0]
        unit.knobs.fail_next_500 = 1
        await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(2)])
        assert unit.sleeps[-1] == 0.5  # backoff without Retry-After


async def test_429_without_end_gives_up_as_retryable(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path, attempts=3) as unit:
        await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        unit.knobs.fail_next_429 = 10
        with pytest.raises(MarketingCloudUnavailableError) as raised:
            await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(1)])
        assert "HTTP 429" in str(raised.value) and raised.value.retry_after == 1.0
        assert len(unit.sleeps) == 3


async def test_expired_token_is_refreshed_once(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path, token_lifetime_seconds=1200) as unit:
        await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        assert unit.client.token_requests == 1
        unit.app.state.sandbox.tokens.expire_all()  # revoked early: the server says 401
        await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(1)])
        assert unit.client.token_requests == 2
        unit.clock.now += 1200  # past the cached expiry: fetched before the call
        await write_rows(unit.client, SMS_DELIVERY_REPORTS, [_report(2)])
        assert unit.client.token_requests == 3
        assert (await unit.client.read_rows(SMS_DELIVERY_REPORTS.key))["count"] == 2


async def test_wrong_secret_stops_without_showing_it(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path, secret="wrong-secret-value") as unit:
        with pytest.raises(MarketingCloudAuthError) as raised:
            await deploy(unit.client)
        assert "wrong-secret-value" not in str(raised.value)
        assert "510000042" in str(raised.value)


async def test_fire_event(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        await unit.client.call(
            "POST",
            "/interaction/v1/eventDefinitions",
            json={"eventDefinitionKey": "APIEvent-replies"},
        )
        event = await unit.client.fire_event("APIEvent-replies", "c-9", {"text": "YES"})
        listed = await unit.client.call("GET", "/sandbox/events")
        assert listed["items"][0]["eventInstanceId"] == event
        assert listed["items"][0]["data"] == {"text": "YES"}


async def test_client_for_a_stored_unit(tmp_path: Path) -> None:
    info = UnitInfo(
        "acme", MID, CLIENT_ID, f"{BASE}/", True, False, None, None, "native", datetime.now(UTC)
    )
    async with sandbox_unit(tmp_path) as unit:
        client = client_for(UnitKeys(info, SECRET, (b"k",)), unit.http)
        assert SECRET not in repr(client)
        deployed = await deploy(client, [SMS_DELIVERY_REPORTS])
        assert deployed[0].created


class _ErrorStatus(httpx.AsyncBaseTransport):
    """The sandbox, except that every async request reports ``Error`` with no results."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/status"):
            await response.aread()
            body = response.json()
            body["status"]["requestStatus"] = "Error"
            return httpx.Response(200, json=body)
        if request.url.path.endswith("/results"):
            return httpx.Response(200, json={"page": 1, "pageSize": 50, "count": 0, "items": []})
        return response


async def test_async_request_in_error_counts_its_rows_as_not_written(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        await deploy(unit.client, [SMS_DELIVERY_REPORTS])
        transport = _ErrorStatus(httpx.ASGITransport(app=unit.app))
        async with httpx.AsyncClient(transport=transport) as http:
            client = MarketingCloudClient(f"{BASE}/", CLIENT_ID, SECRET, MID, http)
            outcome = await write_rows(
                client, SMS_DELIVERY_REPORTS, [_report(n) for n in range(60)]
            )
        assert outcome.written == 0
        assert "60 rows" in str(outcome.errors[0]) and "Error" in str(outcome.errors[0])
