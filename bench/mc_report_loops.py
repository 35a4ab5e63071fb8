"""What ``serve``'s report write-back costs when there is nothing new: U business units, each
with its loop's pass (``UnitPasses.run``: read the unit, take and release its lease, read
every kind from its cursor, keep the last pass), run one after the other R times, timed.

With nothing to write no Marketing Cloud call is made (the units point at an address that
would refuse any), so this is the database work serve repeats every interval per unit. The
People database is SQLite in a scratch directory, or PostgreSQL with ``--database-url``.
Prints JSON, with the process CPU time.

    python -m bench mc_report_loops --units 50 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from peoplesync.clock import SystemClock
from peoplesync.marketing_cloud.tables import business_units, report_marks, sync_cursors
from peoplesync.marketing_cloud.units import BusinessUnits, UnitSettings
from peoplesync.people.database import create_engine, migrate
from peoplesync.secret_box import SecretBox
from peoplesync.workers.outcome import Finished
from peoplesync.workers.report_sync import UnitPasses


async def _run(scratch: Path, units: int, rounds: int, url: str | None) -> dict[str, Any]:
    engine = create_engine(url or f"sqlite+aiosqlite:///{scratch / 'people.db'}")
    await migrate(engine)
    async with engine.begin() as conn:
        for table in (report_marks, sync_cursors, business_units):
            await conn.execute(sa.delete(table))
    stored = BusinessUnits(engine, SecretBox(Fernet.generate_key()), SystemClock())
    for n in range(units):
        await stored.add(
            UnitSettings(
                name=f"unit-{n:03d}",
                mid=f"5100{n:05d}",
                client_id="bench",
                auth_url="https://127.0.0.1:9/",  # never called: nothing to write
                client_secret=Fernet.generate_key().decode(),  # never used
            )
        )
    passes = UnitPasses(stored, by="serve")
    names = await passes.names()
    per_round = []
    cpu = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        for name in names:
            outcome = await passes.run(name)
            assert isinstance(outcome, Finished) and outcome.report.total == 0, outcome
        per_round.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    await engine.dispose()
    best = min(per_round)
    return {
        "round_seconds": [round(each, 3) for each in per_round],
        "pass_ms_best_round": round(1000 * best / units, 2),
        "pass_cpu_ms": round(1000 * cpu / (units * rounds), 2),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench mc_report_loops")
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        figures = asyncio.run(_run(Path(scratch), args.units, args.rounds, args.database_url))
    print(
        json.dumps(
            {
                "benchmark": "mc_report_loops",
                "units": args.units,
                "rounds": args.rounds,
                "database": "postgresql" if args.database_url else "sqlite",
                **figures,
                "load_1min_before_after": [round(load, 2), round(os.getloadavg()[0], 2)],
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, 2 cores",
            }
        )
    )
