"""Create attempts in process (no org): what a push's saved creates cost the push and the
inbound sync.

    python -m bench create_attempts --creates 50000 [--backend sqlite|postgres|both]

N persons with an email are stored; then, timed separately (wall seconds and this
process's CPU seconds):

- ``record``: the push saves the values it is about to send for all N (one batch, as a
  push page of N new Leads does);
- ``inbound_matching``: the inbound sync's lookup of records a push created but has not
  linked (``pushed_creates``), over the N new Leads in batches of 2,000 (the records read
  back while the attempts are saved);
- ``inbound_other``: the same lookup for 25 batches of 2,000 unlinked records of other
  persons (an inbound pass that runs while a big create is in flight);
- ``forget``: the attempts dropped once the links are committed.

``values_bytes`` is the size of the values saved, as JSON. PostgreSQL runs on a fresh
schema of ``PEOPLESYNC_BENCH_POSTGRES_URL`` (as in ``people_upsert``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.people_upsert import postgres_schema
from bench.process_cpu import cpu_seconds, load_average
from peoplesync.clock import Clock, SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.inbound.draft import Draft
from peoplesync.sync.inbound.match import create_attempts, pushed_creates
from peoplesync.sync.inbound.runner import InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.outbound.attempts import CreateAttempts
from peoplesync.sync.outbound.plan import create_values
from peoplesync.sync.outbound.step import OutboundStep, default_steps

BATCH = 2000


@dataclass
class Context:
    """The part of a push the attempts read."""

    store: SqlPeopleStore
    clock: Clock = field(default_factory=SystemClock)
    client: Any = None
    system: str = "salesforce:default"
    steps: Mapping[str, OutboundStep] = field(default_factory=dict)
    phone_region: str | None = None
    dry_run: bool = False


async def timed(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    cpu, wall = cpu_seconds(os.getpid()), time.perf_counter()
    await work()
    return {
        "seconds": round(time.perf_counter() - wall, 3),
        "cpu_seconds": round(cpu_seconds(os.getpid()) - cpu, 3),
    }


def person_input(i: int, prefix: str) -> PersonInput:
    values = {"first_name": "New", "last_name": f"Person {i}", "company": "Bench", "city": "Leeds"}
    return PersonInput(values=values, emails=[f"{prefix}{i}@bench.example"])


async def run_backend(name: str, url: str, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    for prefix in ("new", "other"):
        for start in range(0, count, 5000):
            inputs = [person_input(i, prefix) for i in range(start, min(count, start + 5000))]
            await store.upsert_persons(inputs, origin="ui")
    owners = await store.find_by_emails(f"new{i}@bench.example" for i in range(count))
    persons = await store.get_persons(list(owners.values()))
    lead = next(step for step in default_steps() if step.sobject == "Lead")
    rows = [(person, create_values(person, lead.lines)) for person in persons.values()]
    attempts = CreateAttempts(Context(store))  # type: ignore[arg-type]
    inbound = InboundStep("Lead", DEFAULT_MAPPINGS["Lead"])

    def drafts(prefix: str, start: int) -> list[Draft]:
        return [
            Draft({"Id": f"00Q{prefix}{i:012d}"}, {}, f"{prefix}{i}@bench.example")
            for i in range(start, min(count, start + BATCH))
        ]

    found = 0

    async def matching() -> None:
        nonlocal found
        for start in range(0, count, BATCH):
            batch = drafts("new", start)
            saved = await create_attempts(store, inbound, batch)  # read before the links
            found += len(await pushed_creates(store, inbound, batch, {}, saved))

    async def other() -> None:
        for start in range(0, min(count, 25 * BATCH), BATCH):
            batch = drafts("other", start)
            saved = await create_attempts(store, inbound, batch)
            assert not await pushed_creates(store, inbound, batch, {}, saved)

    out: dict[str, Any] = {"benchmark": "create_attempts", "backend": name, "creates": count}
    out["values_bytes"] = len(
        json.dumps({p.id: {"object": "Lead", "at": "x" * 32, "values": v} for p, v in rows})
    )
    out["record"] = await timed(lambda: attempts.record("Lead", rows))
    out["inbound_matching"] = await timed(matching)
    out["inbound_other"] = await timed(other)
    out["forget"] = await timed(lambda: attempts.forget([p.id for p, _ in rows]))
    assert found == count, found
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
    parser = argparse.ArgumentParser(prog="bench create_attempts")
    parser.add_argument("--creates", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.creates < 1:
        parser.error("--creates must be at least 1")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    asyncio.run(run(backends, args.creates))


if __name__ == "__main__":
    main()
