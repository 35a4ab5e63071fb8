"""Shared by the report write-back tests of workers/: the sandbox with its data extensions,
delivery reports of a unit, a stored unit, and :class:`UnitPasses` calling the sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys, UnitSettings
from peoplesync.messaging.tables import message_reports
from peoplesync.secret_box import SecretBox
from peoplesync.workers.report_sync import Connection, UnitPasses
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


def passes_on(
    engine: AsyncEngine, clock: Clock, sandbox: SandboxUnit, by: str = "serve"
) -> UnitPasses:
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

    return UnitPasses(units, by=by, connect=connect, retry_after=7.0)


@asynccontextmanager
async def deployed_sandbox(data_dir: Path) -> AsyncIterator[SandboxUnit]:
    """The Marketing Cloud sandbox in process, its data extensions deployed."""
    async with sandbox_unit(data_dir) as unit:
        await deploy(unit.client)
        yield unit


async def stored(sandbox: SandboxUnit) -> set[str]:
    rows = await sandbox.client.read_rows(SMS_DELIVERY_REPORTS.key)
    return {item["keys"]["messageid"] for item in rows["items"]}
