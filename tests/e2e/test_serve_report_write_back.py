"""`peoplesync serve` writes reports back by itself: serve and the Marketing Cloud sandbox as
processes (HTTPS), a business unit added after serve started, a delivery report posted to
serve's report receiver -> the row lands in the sandbox's SMS Delivery Reports without anyone
running `marketing-cloud sync-reports`; `marketing-cloud list --json` shows the pass."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.tables import outbound_messages
from peoplesync.people.database import create_engine
from peoplesync.secret_box import SecretBox
from tests.browser.conftest import _free_port
from tests.e2e.test_report_sync_cli import _client, _deploy
from tests.e2e.test_serve_sends import _wait
from tests.served_org import PEOPLESYNC, served_sandbox

SENT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _callback(mid: str) -> str:
    """The callback data the Message activity gives a journey's message (compact JSON)."""
    return json.dumps({"MID": mid, "ContactKey": "C-7"}, separators=(",", ":"))


async def _queued_message(database: Path, mid: str) -> None:
    """A message a journey of the unit sent (what the Message activity leaves in the outbox)."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    callback = _callback(mid)
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(outbound_messages).values(
                id="msg-1",
                idempotency_key="k-msg-1",
                account="main",
                channel="sms",
                recipient="385911234567",
                request={},
                callback_data=callback,
                state="sent",
                status="Sent",
                send_after=SENT,
                created_at=SENT,
                sent_at=SENT,
            )
        )
    await engine.dispose()


async def _stored(info: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        rows = await _client(info, http).read_rows(SMS_DELIVERY_REPORTS.key)
    return {item["keys"]["messageid"]: item["values"] for item in rows["items"]}


def test_serve_writes_a_posted_delivery_report_back_by_itself(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    key = Fernet.generate_key().decode()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(data),
        "PEOPLESYNC_SECRET_KEY": key,
        "PEOPLESYNC_PUBLIC_URL": url,
        "PEOPLESYNC_MC_SYNC_INTERVAL": "0.5",
        "COLUMNS": "400",
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    log_path = tmp_path / "serve.log"
    with (
        served_sandbox("marketing-cloud", tmp_path / "mc") as info,
        log_path.open("w") as log,
    ):
        asyncio.run(_deploy(info))
        serve = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--insecure-cookies"],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:

            def up() -> bool:
                try:
                    return httpx.get(f"{url}/health", timeout=2).status_code == 200
                except httpx.TransportError:
                    assert serve.poll() is None, log_path.read_text()
                    return False

            _wait(up, 40, "serve to start")
            add = [*PEOPLESYNC, "marketing-cloud", "add", "--name", "acme", "--mid", info["mid"]]
            add += ["--client-id", info["client_id"], "--auth-url", info["auth_url"]]
            added = subprocess.run(
                [*add, "--ca-cert", info["ca_cert"]],
                env={**env, "PEOPLESYNC_MC_CLIENT_SECRET": info["client_secret"]},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert added.returncode == 0, added.stderr
            asyncio.run(_queued_message(data / "peoplesync.db", info["mid"]))
            delivery = hook_urls(url, SecretBox(key.encode()), "main").delivery_url
            report = {
                "messageId": "msg-1",
                "to": "385911234567",
                "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DTH"},
                "doneAt": "2026-12-05T12:01:00.000+0000",
                "callbackData": _callback(info["mid"]),
            }
            posted = httpx.post(delivery, json={"results": [report]}, timeout=30)
            assert posted.status_code == 200 and posted.json()["applied"] == 1, posted.text

            def written() -> dict[str, Any]:
                return asyncio.run(_stored(info))

            stored = _wait(
                written, 60, f"the row in the sandbox; serve said:\n{log_path.read_text()}"
            )
            assert stored["msg-1"]["statusgroupname"] == "DELIVERED"
            assert stored["msg-1"]["contactkey"] == "C-7"
            listed = subprocess.run(
                [*PEOPLESYNC, "marketing-cloud", "list", "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            [unit] = json.loads(listed.stdout)
            assert unit["last_pass"]["by"] == "serve" and unit["last_pass"]["error"] is None
        finally:
            serve.terminate()
            assert serve.wait(timeout=30) in {0, -15}, log_path.read_text()
    said = log_path.read_text()
    assert "acme: report write-back started" in said
    assert "acme: wrote 1 report row(s) to Marketing Cloud (sms 1)" in said
    assert info["client_secret"] not in said
