"""Report write-back passes (``ReportSync.run_once``) into the Marketing Cloud sandbox.

The sandbox runs in this process (``httpx.ASGITransport``, so its CPU is counted here too);
the People database is SQLite in a scratch directory, or PostgreSQL with ``--database-url``.
N SMS delivery-report rows of the unit's MID (and N/4 of another unit's) are stored, their
change times spread over the hour before the run; then three passes are timed: the first
writes the N rows, the second finds nothing to write (it reads only the rows changed since the
cursor less its two-minute margin, about N/30 here), the third after 10% of the rows changed.
Prints JSON.

    python -m bench mc_report_sync --rows 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from peoplesync.clock import SystemClock
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.report_sync import ReportSync
from peoplesync.marketing_cloud.tables import report_marks, sync_cursors
from peoplesync.marketing_cloud.units import UnitInfo
from peoplesync.messaging.tables import message_reports
from peoplesync.people.database import create_engine, migrate
from peoplesync.sandbox.marketing_cloud.app import create_marketing_cloud_app
from peoplesync.sandbox.marketing_cloud.config import SandboxConfig

MID = "510000042"


def _row(n: int, mid: str, rows: int) -> dict[str, Any]:
    at = datetime(2026, 12, 5, 12, tzinfo=UTC)
    changed = datetime.now(UTC) - timedelta(seconds=3600 * (1 - n / rows))
    callback = {"ActivityId": "a-1", "BulkId": "bench", "ContactKey": f"c-{n}", "MID": mid}
    return {
        "message_id": f"{mid[:2]}-{n:08d}",
        "channel": "sms",
        "recipient": f"38591{n:07d}",
        "message_count": 1,
        "status_group_name": "DELIVERED",
        "status_id": 5,
        "error_permanent": False,
        "callback_data": json.dumps(callback, separators=(",", ":")),
        "sent_at": at,
        "done_at": at,
        "changed_at": changed,
    }


async def _timed(sync: ReportSync) -> tuple[float, int]:
    started = time.perf_counter()
    outcome = await sync.run_once()
    assert not outcome.errors, outcome.errors[:3]
    return time.perf_counter() - started, outcome.total


async def _run(scratch: Path, rows: int, url: str | None) -> dict[str, Any]:
    engine = create_engine(url or f"sqlite+aiosqlite:///{scratch / 'people.db'}")
    await migrate(engine)
    async with engine.begin() as conn:
        for table in (message_reports, report_marks, sync_cursors):
            await conn.execute(sa.delete(table))
        await conn.execute(sa.insert(message_reports), [_row(n, MID, rows) for n in range(rows)])
        others = [_row(n, "999000", rows) for n in range(rows // 4)]
        await conn.execute(sa.insert(message_reports), others)
    config = SandboxConfig(scratch / "mc", "bench-client", "bench-secret", "jwt", mid=MID)
    app = create_marketing_cloud_app(config, time.monotonic)
    figures: dict[str, Any] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=120) as http,
    ):
        client = MarketingCloudClient("https://mc.test/", "bench-client", "bench-secret", MID, http)
        await deploy(client, [SMS_DELIVERY_REPORTS])
        info = UnitInfo(
            "bench",
            MID,
            "bench-client",
            "https://mc.test",
            True,
            False,
            None,
            None,
            "native",
            datetime.now(UTC),
        )
        marks = ReportMarks(engine, SystemClock())
        sync = ReportSync(info, marks, client, http)
        seconds, written = await _timed(sync)
        figures |= {
            "first_pass_seconds": round(seconds, 2),
            "first_pass_rows": written,
            "first_pass_rows_per_second": round(written / seconds),
        }
        seconds, written = await _timed(sync)
        figures |= {"idle_pass_seconds": round(seconds, 2), "idle_pass_rows": written}
        changed = [f"{MID[:2]}-{n:08d}" for n in range(0, rows, 10)]
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(message_reports)
                .where(message_reports.c.message_id.in_(changed))
                .values(status_group_name="SEEN")
            )
        seconds, written = await _timed(sync)
        figures |= {"changed_pass_seconds": round(seconds, 2), "changed_pass_rows": written}
    await engine.dispose()
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench mc_report_sync")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        figures = asyncio.run(_run(Path(scratch), args.rows, args.database_url))
    database = "postgresql" if args.database_url else "sqlite"
    print(
        json.dumps(
            {
                "benchmark": "mc_report_sync",
                "rows": args.rows,
                "database": database,
                **figures,
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, 2 cores",
            }
        )
    )
