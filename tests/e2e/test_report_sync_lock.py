"""``marketing-cloud sync-reports`` as processes against the sandbox (HTTPS, slowed down):
two copies started together for one unit write every row and fire the reply event once (one
of them finds the unit held and skips); a copy SIGKILLed mid-pass loses nothing and fires
nothing twice when the next copy runs once the killed one's lease has run out."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import time
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
from peoplesync.marketing_cloud.tables import reply_triggers
from peoplesync.messaging.tables import inbound_messages, message_reports, outbound_messages
from peoplesync.people.database import create_engine
from peoplesync.settings import Settings
from tests.served_org import PEOPLESYNC, served_sandbox

DONE = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
EVENT_KEY = "peoplesync-reply"


def _client(info: dict[str, Any], http: httpx.AsyncClient) -> MarketingCloudClient:
    return MarketingCloudClient(
        info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
    )


async def _mc(info: dict[str, Any], what: str) -> int:
    """``prepare``: deploy and make the event definition; ``rows``/``events``: count them."""
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(verify=verify, timeout=60) as http:
        client = _client(info, http)
        if what == "prepare":
            await deploy(client)
            body = {"eventDefinitionKey": EVENT_KEY}
            await client.call("POST", "/interaction/v1/eventDefinitions", json=body)
            return 0
        if what == "rows":
            return int((await client.read_rows(SMS_DELIVERY_REPORTS.key, page_size=1))["count"])
        fired = await client.call("GET", "/sandbox/events", params={"key": EVENT_KEY})
        return len(fired["items"])


async def _seed(mid: str, count: int) -> None:
    """``count`` delivered SMS of the unit; a reply to the first, whose journey asked for an
    event."""
    engine = create_engine(Settings().resolved_database_url())
    callback = json.dumps({"MID": mid, "ContactKey": "C-7"}, separators=(",", ":"))
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(message_reports),
            [
                {
                    "message_id": f"m{n:05}",
                    "channel": "sms",
                    "recipient": "385911",
                    "done_at": DONE,
                    "status_group_name": "DELIVERED",
                    "callback_data": callback,
                }
                for n in range(count)
            ],
        )
        await conn.execute(
            sa.insert(outbound_messages).values(
                id="m00000",
                idempotency_key="k-0",
                account="acct",
                channel="sms",
                recipient="385911",
                request={},
                callback_data=callback,
                state="delivered",
                status="Sent",
                send_after=DONE,
                created_at=DONE,
            )
        )
        await conn.execute(sa.insert(reply_triggers).values(message_id="m00000", created_at=DONE))
        await conn.execute(
            sa.insert(inbound_messages).values(
                id="r1",
                account="acct",
                message_id="in-1",
                channel="sms",
                sender="385911",
                recipient="4474",
                text="YES",
                clean_text="YES",
                received_at=DONE,
                message_count=1,
                in_reply_to="m00000",
                created_at=DONE,
            )
        )
    await engine.dispose()


def _setup(
    tmp_path: Path, info: dict[str, Any], monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    asyncio.run(_mc(info, "prepare"))
    monkeypatch.setenv("PEOPLESYNC_MC_CLIENT_SECRET", info["client_secret"])
    add = ["marketing-cloud", "add", "--name", "acme", "--mid", info["mid"]]
    add += ["--client-id", info["client_id"], "--auth-url", info["auth_url"]]
    add += ["--ca-cert", info["ca_cert"], "--event-definition-key", EVENT_KEY]
    added = CliRunner().invoke(app, add)
    assert added.exit_code == 0, added.output
    asyncio.run(_seed(info["mid"], rows))


def _start(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    command = [*PEOPLESYNC, "marketing-cloud", "sync-reports", "acme", "--once", "--json"]
    return subprocess.Popen(
        [*command, *options],
        env={**os.environ, "PEOPLESYNC_DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)


def test_two_copies_at_once_write_once_and_fire_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_sandbox("marketing-cloud", tmp_path / "mc", "--latency-ms", "400") as info:
        _setup(tmp_path, info, monkeypatch, 80)
        copies = [_start(tmp_path), _start(tmp_path)]
        outputs = [copy.communicate(timeout=300) for copy in copies]
        for copy, (_, err) in zip(copies, outputs, strict=True):
            assert copy.returncode == 0, err
        summaries = [json.loads(out) for out, _ in outputs]
        skipped = [each for each in summaries if each.get("skipped") == "locked"]
        ran = [each for each in summaries if "skipped" not in each]
        assert len(skipped) == 1 and len(ran) == 1, summaries
        assert ran[0]["written"]["sms"] == 80 and ran[0]["events"] == 1
        assert "another sync-reports holds this unit" in outputs[summaries.index(skipped[0])][1]
        assert asyncio.run(_mc(info, "rows")) == 80
        assert asyncio.run(_mc(info, "events")) == 1


def test_a_copy_killed_mid_pass_loses_nothing_and_fires_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 1200  # three pages of 500 rows
    with served_sandbox("marketing-cloud", tmp_path / "mc", "--latency-ms", "300") as info:
        _setup(tmp_path, info, monkeypatch, total)
        copy = _start(tmp_path, "--lease", "2")
        deadline = time.monotonic() + 120
        while asyncio.run(_mc(info, "rows")) == 0:  # the first page is in
            assert copy.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        copy.send_signal(signal.SIGKILL)
        copy.communicate(timeout=30)
        written = asyncio.run(_mc(info, "rows"))
        assert 0 < written < total  # killed mid-pass
        time.sleep(2.5)  # the killed copy's lease runs out
        after = _start(tmp_path)
        out, err = after.communicate(timeout=300)
        assert after.returncode == 0, err
        summary = json.loads(out)
        assert "skipped" not in summary and summary["events"] == 1
        # the rows the killed copy had not marked are written again (upserts), no more
        assert total - written <= summary["written"]["sms"] <= total
        assert asyncio.run(_mc(info, "rows")) == total
        assert asyncio.run(_mc(info, "events")) == 1
        again = _start(tmp_path)
        out, err = again.communicate(timeout=300)
        assert json.loads(out)["written"]["sms"] == 0 and json.loads(out)["events"] == 0, err
