"""People store bulk upsert: persons/s for creating and then updating N persons.

Usage: python -m bench people_upsert [--persons N] [--backend sqlite|postgres|both]
Prints one JSON document per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore

POSTGRES_URL = os.environ.get(
    "PEOPLESYNC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Linus", "Radia", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Perlman"]
CITIES = ["London", "Zagreb", "Berlin", "Austin", "Lisbon", "Osaka", "Nairobi", "Lima"]


def people(count: int, *, seed: int, city_suffix: str = "") -> Iterator[PersonInput]:
    """Deterministic, realistic inputs: names, one email, one phone, company, city, country."""
    rng = random.Random(seed)
    for i in range(count):
        yield PersonInput(
            values={
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "company": f"Company {i % 5000}",
                "city": rng.choice(CITIES) + city_suffix,
                "country": "GB",
                "lead_source": "Web",
            },
            emails=[f"person{i}@example{i % 97}.com"],
            phones=[f"+44 7400 {i % 1_000_000:06d}" if i % 2 else f"+385 91 {i % 10_000_000:07d}"],
        )


async def run_backend(name: str, url: str, count: int, batch: int) -> dict[str, object]:
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), batch_size=batch)
    started = time.perf_counter()
    created = await store.upsert_persons(people(count, seed=1), origin="bench")
    create_seconds = time.perf_counter() - started
    started = time.perf_counter()
    updated = await store.upsert_persons(
        people(count, seed=1, city_suffix=" (moved)"), origin="bench"
    )
    update_seconds = time.perf_counter() - started
    async with engine.connect() as conn:
        changes = await conn.scalar(sa.text("SELECT count(*) FROM change_log"))
    await engine.dispose()
    assert len(created.created) == count and len(updated.updated) == count
    return {
        "benchmark": "people_store_bulk_upsert",
        "backend": name,
        "persons": count,
        "batch_size": batch,
        "create_seconds": round(create_seconds, 2),
        "create_persons_per_second": round(count / create_seconds),
        "update_seconds": round(update_seconds, 2),
        "update_persons_per_second": round(count / update_seconds),
        "change_log_rows": changes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A URL on a fresh schema of the bench PostgreSQL, dropped on exit."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def run(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                print(
                    json.dumps(await run_backend("sqlite", url, args.persons, args.batch)),
                    flush=True,
                )
        else:
            async with postgres_schema() as url:
                print(
                    json.dumps(await run_backend("postgres", url, args.persons, args.batch)),
                    flush=True,
                )


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="bench people_upsert")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    asyncio.run(run(parser.parse_args(argv)))
