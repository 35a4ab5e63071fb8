"""Update attempts in process (no org): what a push's saved updates cost the push and the
inbound sync.

    python -m bench sent_updates --updates 50000 [--backend sqlite|postgres|both]

Timed separately (wall seconds and this process's CPU seconds), for one push page updating
N Leads:

- ``record``: the push saves the values it is about to send to all N (one batch);
- ``record_again``: the next page sends the same N records again before the first settled
  (merged over what is saved: the worst case of a retried page);
- ``inbound_updated``: the inbound sync's read of what pushes sent without committing
  (``load_sent``) over the N updated Leads, in batches of 2,000;
- ``inbound_other``: the same read for 25 batches of 2,000 other records (an inbound pass
  running while the big update page is in flight);
- ``commit``: the page's commit (its cursor value) with the N records' fields forgotten;
- ``inbound_idle``: the 25 batches of other records again once nothing is saved (every
  inbound batch pays this when no push is in flight).

``values_bytes`` is the size of the values saved, as the one JSON value they used to be.
The same file runs on the code before migration 0020 (``PYTHONPATH=<old checkout>/src``):
there the commit is the cursor's write followed by ``SentUpdates.forget``. PostgreSQL runs on
a fresh schema of ``PEOPLESYNC_BENCH_POSTGRES_URL`` (as in ``people_upsert``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.create_attempts import timed
from bench.people_upsert import postgres_schema
from bench.process_cpu import load_average
from peoplesync.clock import Clock, SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.outbound import sent_updates
from peoplesync.sync.outbound.step import OutboundStep

BATCH = 2000
SYSTEM = "salesforce:default"


@dataclass
class Context:
    """The part of a push the update attempts read."""

    store: SqlPeopleStore
    clock: Clock = field(default_factory=SystemClock)
    client: Any = None
    system: str = SYSTEM
    steps: Mapping[str, OutboundStep] = field(default_factory=dict)
    phone_region: str | None = None
    dry_run: bool = False


def lead_id(i: int, prefix: str = "A") -> str:
    return f"00Q{prefix}{i:014d}"


async def run_backend(name: str, url: str, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    updates = sent_updates.SentUpdates(Context(store))  # type: ignore[arg-type]
    rows = [
        (lead_id(i), {"City": f"City {i}", "Title": "Engineer", "Phone": f"+1555{i:07d}"})
        for i in range(count)
    ]
    again = [(rid, {"City": str(values["City"]) + "!"}) for rid, values in rows]
    done = {rid: set(values) for rid, values in rows}
    found = 0

    async def updated() -> None:
        nonlocal found
        for start in range(0, count, BATCH):
            ids = [lead_id(i) for i in range(start, min(count, start + BATCH))]
            found += len(await sent_updates.load_sent(store, SYSTEM, "Lead", ids))

    async def other() -> None:
        for start in range(0, 25 * BATCH, BATCH):
            ids = [lead_id(i, "B") for i in range(start, start + BATCH)]
            assert not await sent_updates.load_sent(store, SYSTEM, "Lead", ids)

    cursor = (f"{SYSTEM}:push", {"position": {"seq": count, "gaps": {}}, "retry": {}})

    async def commit() -> None:
        forget = getattr(updates, "forget", None)
        if forget is not None:  # before migration 0020: the forget after the commit
            await store.apply_removals(origin=SYSTEM, state=cursor)
            await forget(done)
        else:
            await store.apply_removals(origin=SYSTEM, state=cursor, settled=(SYSTEM, done))

    out: dict[str, Any] = {"benchmark": "sent_updates", "backend": name, "updates": count}
    out["values_bytes"] = len(
        json.dumps({rid: {"object": "Lead", "at": "x" * 32, "values": v} for rid, v in rows})
    )
    out["record"] = await timed(lambda: updates.record("Lead", rows))
    out["record_again"] = await timed(lambda: updates.record("Lead", again))
    out["inbound_updated"] = await timed(updated)
    out["inbound_other"] = await timed(other)
    out["commit"] = await timed(commit)
    out["inbound_idle"] = await timed(other)
    assert found == count, found
    assert not await sent_updates.load_sent(store, SYSTEM, "Lead", [lead_id(0)])
    await engine.dispose()
    return out | {"load_average_1m": load_average()}


async def run(backends: list[str], count: int) -> None:
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                print(json.dumps(await run_backend("sqlite", url, count)), flush=True)
        else:
            async with postgres_schema() as url:
                print(json.dumps(await run_backend("postgres", url, count)), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="bench sent_updates")
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.updates < 1:
        parser.error("--updates must be at least 1")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    asyncio.run(run(backends, args.updates))


if __name__ == "__main__":
    main()
