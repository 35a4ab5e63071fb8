"""``peoplesync marketing-cloud deploy NAME`` against the sandbox as a process over loopback
HTTPS (the unit's own CA file): the five data extensions are created, a second run changes
nothing, an extension missing columns is upgraded with its rows kept."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SAMPLE_AUDIENCE, DataExtension
from peoplesync.marketing_cloud.deploy import deploy
from tests.served_org import served_sandbox

OLD_AUDIENCE = DataExtension(SAMPLE_AUDIENCE.name, SAMPLE_AUDIENCE.key, SAMPLE_AUDIENCE.columns[:3])


async def _call(info: dict[str, Any], extension: DataExtension | None) -> int:
    """Deploy ``extension`` (an older shape) with a row in it; or count SampleAudience rows."""
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        if extension is not None:
            await deploy(client, (extension,))
            row = {"keys": {"ContactKey": "C-1"}, "values": {"FirstName": "Ada"}}
            await client.upsert_rowset(extension.key, [row])
        rows = await client.read_rows(SAMPLE_AUDIENCE.key)
        return int(rows["count"])


def test_deploy_creates_then_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    runner = CliRunner()
    with served_sandbox("marketing-cloud", tmp_path / "mc") as info:
        assert asyncio.run(_call(info, OLD_AUDIENCE)) == 1  # deployed before, with a row
        monkeypatch.setenv("PEOPLESYNC_MC_CLIENT_SECRET", info["client_secret"])
        add = ["marketing-cloud", "add", "--name", "acme", "--mid", info["mid"]]
        add += ["--client-id", info["client_id"], "--auth-url", info["auth_url"]]
        added = runner.invoke(app, [*add, "--ca-cert", info["ca_cert"]])
        assert added.exit_code == 0, added.output
        first = runner.invoke(app, ["marketing-cloud", "deploy", "acme", "--json"])
        assert first.exit_code == 0, first.output
        statuses = {each["key"]: each for each in json.loads(first.stdout)["extensions"]}
        assert len(statuses) == 5
        audience = statuses.pop(SAMPLE_AUDIENCE.key)
        assert audience["status"] == "upgraded"
        assert audience["added"] == ["Mobile", "Email", "Locale"]
        assert {each["status"] for each in statuses.values()} == {"created"}
        assert asyncio.run(_call(info, None)) == 1  # the row survived the upgrade

        again = runner.invoke(app, ["marketing-cloud", "deploy", "acme"])
        assert again.exit_code == 0, again.output
        lines = again.stdout.strip().splitlines()
        assert len(lines) == 5 and all(line.endswith("\tunchanged") for line in lines)
        assert "SMS Delivery Reports\tpeoplesync_sms_delivery_reports\tunchanged" in lines

        unknown = runner.invoke(app, ["marketing-cloud", "deploy", "nope"])
        assert unknown.exit_code == 1 and "no business unit named 'nope'" in unknown.output
