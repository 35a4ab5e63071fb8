"""``peoplesync marketing-cloud sync-reports NAME --once`` against the sandbox as a process over
loopback HTTPS: the unit's delivery rows land in SMS Delivery Reports; a second run writes
nothing."""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.messaging.tables import message_reports
from peoplesync.people.database import create_engine
from peoplesync.settings import Settings
from tests.served_org import served_sandbox

DONE = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _client(info: dict[str, Any], http: httpx.AsyncClient) -> MarketingCloudClient:
    return MarketingCloudClient(
        info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
    )


async def _deploy(info: dict[str, Any]) -> None:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        await deploy(_client(info, http))


async def _seed(mid: str) -> None:
    engine = create_engine(Settings().resolved_database_url())
    callback = json.dumps({"MID": mid, "ContactKey": "C-7"}, separators=(",", ":"))
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(message_reports),
            [
                {
                    "message_id": f"m{n}",
                    "channel": "sms",
                    "recipient": "385911",
                    "sent_at": DONE,
                    "done_at": DONE,
                    "status_group_name": "DELIVERED",
                    "callback_data": callback,
                }
                for n in range(3)
            ],
        )
    await engine.dispose()


async def _stored(info: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        rows = await _client(info, http).read_rows(SMS_DELIVERY_REPORTS.key)
    return {item["keys"]["messageid"]: item["values"] for item in rows["items"]}


def test_sync_reports_once_over_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    runner = CliRunner()
    with served_sandbox("marketing-cloud", tmp_path / "mc") as info:
        asyncio.run(_deploy(info))
        monkeypatch.setenv("PEOPLESYNC_MC_CLIENT_SECRET", info["client_secret"])
        add = ["marketing-cloud", "add", "--name", "acme", "--mid", info["mid"]]
        added = runner.invoke(
            app, [*add, "--client-id", info["client_id"], "--auth-url", info["auth_url"]]
        )
        assert added.exit_code == 0, added.output
        asyncio.run(_seed(info["mid"]))
        sync = ["marketing-cloud", "sync-reports", "acme", "--once", "--json"]
        first = runner.invoke(app, [*sync, "--ca-cert", info["ca_cert"]])
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout)["written"]["sms"] == 3
        stored = asyncio.run(_stored(info))
        assert sorted(stored) == ["m0", "m1", "m2"]
        assert stored["m1"]["doneat"] == "2026-12-05T06:00:00.000"
        assert stored["m1"]["contactkey"] == "C-7"
        second = runner.invoke(app, [*sync, "--ca-cert", info["ca_cert"]])
        assert json.loads(second.stdout)["written"] == {
            "sms": 0,
            "omni": 0,
            "clicks": 0,
            "inbound": 0,
        }
