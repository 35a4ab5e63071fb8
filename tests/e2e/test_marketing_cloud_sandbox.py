"""``peoplesync sandbox marketing-cloud`` as a process over loopback HTTPS: one JSON line,
the client trusts it through ``ca_cert``, deploys and writes back, and after a restart the
credentials and rows are still there."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx

from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import INBOUND_MESSAGES
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.write_back import write_rows
from tests.served_org import served_sandbox


async def _deploy_and_write(info: dict[str, Any], rows: int) -> int:
    trust = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(verify=trust) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        deployed = await deploy(client)
        if rows:
            written = await write_rows(
                client,
                INBOUND_MESSAGES,
                [{"messageId": f"in-{n}", "text": "YES", "from": "385911"} for n in range(rows)],
            )
            assert written.written == rows and written.mode == "async"
        stored = await client.read_rows(INBOUND_MESSAGES.key, page_size=1)
        assert all(not each.changed for each in deployed) == (rows == 0)
        return int(stored["count"])


async def test_cli_over_https_survives_a_restart(tmp_path: Path) -> None:
    with served_sandbox("marketing-cloud", tmp_path / "mc") as info:
        assert set(info) == {
            "auth_url",
            "rest_url",
            "soap_url",
            "client_id",
            "client_secret",
            "mid",
            "jwt_secret",
            "ca_cert",
        }
        assert info["auth_url"].startswith("https://127.0.0.1:")
        assert await _deploy_and_write(info, 60) == 60
    with served_sandbox("marketing-cloud", tmp_path / "mc") as again:
        assert again["client_secret"] == info["client_secret"]
        assert again["jwt_secret"] == info["jwt_secret"]
        assert await _deploy_and_write(again, 0) == 60
