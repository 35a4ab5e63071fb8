"""Page and REST API latency of the People list, search and person page on N persons.

Usage: python -m bench web_latency [--persons N] [--backend sqlite|postgres|both]
       [--requests N] [--keep DIR_OR_SCHEMA] [--reuse]
Prints one JSON document per backend.

The store is filled through its bulk path (``upsert_persons``, batches of 5,000, the
people_upsert bench's deterministic persons); then ``peoplesync serve`` runs as a second
process on a real port, a user logs in through the login form (session cookie) and gets an
API token, and this process sends the requests one at a time (no concurrency: latency, not
throughput) and times each from sending to the last byte of the body. Every scenario gets
``--requests`` timed requests after 5 untimed ones; search prefixes, cursors and person ids
rotate through a fixed list, so no answer comes from a cache that one repeated query warms.

``--keep`` names a SQLite file or a PostgreSQL schema that is kept after the run;
``--reuse`` skips filling when it already holds N persons (the server still migrates it, so
new indexes are created on start).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.people_upsert import POSTGRES_URL, people
from peoplesync.clock import SystemClock
from peoplesync.errors import NotFoundError
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.web.accounts import Accounts, Role

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]
EMAIL = "bench@example.com"
PASSWORD = "bench password 1"  # noqa: S105 (a throwaway account of the bench database)
WARMUP = 5
TARGET_P95_MS = 150.0
# Name prefixes: common ones (a tenth of all persons or more), a first and last name, and
# prefixes nobody has (the worst case for a plan that walks the newest persons).
NAME_PREFIXES = ["ada", "lo", "h", "grace", "tur", "ada lov", "linus t", "k"]
NO_MATCH_PREFIXES = ["zq", "qx", "xavier", "yy", "wz"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(samples, 0.50), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
        "p99_ms": round(_percentile(samples, 0.99), 1),
        "max_ms": round(max(samples), 1),
        "mean_ms": round(statistics.fmean(samples), 1),
    }


async def fill(engine: AsyncEngine, count: int, reuse: bool) -> float:
    """Bring the store to ``count`` persons (bulk path); the seconds it took."""
    await migrate(engine)
    async with engine.connect() as conn:
        present = int(await conn.scalar(sa.text("SELECT count(*) FROM persons")) or 0)
    if reuse and present == count:
        return 0.0
    if present:
        raise SystemExit(f"the kept database holds {present} persons, not {count}; drop it")
    store = SqlPeopleStore(engine, SystemClock(), batch_size=5000)
    started = time.perf_counter()
    await store.upsert_persons(people(count, seed=1), origin="bench")
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()
    return time.perf_counter() - started


async def credentials(engine: AsyncEngine) -> str:
    """The bench user (admin) exists; an API token for it."""
    accounts = Accounts(engine, SystemClock())
    try:
        user = await accounts.user_by_email(EMAIL)
    except NotFoundError:  # first run on this database
        user = await accounts.add_user(EMAIL, PASSWORD, Role.ADMIN)
    return await accounts.issue_token(user, "bench")


async def samples(engine: AsyncEngine, persons: int) -> dict[str, list[str]]:
    """Person ids spread over the table, and cursors deep in the list (past 90%)."""
    rng = random.Random(7)
    async with engine.connect() as conn:
        offsets = sorted(rng.randrange(persons) for _ in range(40))
        ids = [
            str(
                await conn.scalar(
                    sa.text("SELECT id FROM persons ORDER BY id DESC LIMIT 1 OFFSET :o"),
                    {"o": offset},
                )
            )
            for offset in offsets
        ]
        deep = [
            str(
                await conn.scalar(
                    sa.text("SELECT id FROM persons ORDER BY id DESC LIMIT 1 OFFSET :o"),
                    {"o": int(persons * share)},
                )
            )
            for share in (0.9, 0.93, 0.96, 0.99)
        ]
    emails = [f"person{rng.randrange(persons)}" for _ in range(20)]
    emails += ["person99", "nobody", "person12345", "person98"]
    # Common prefixes none of the newest persons have ("person1": the bench numbers addresses
    # in creation order), the search's worst case, measured on their own.
    worst = ["person1", "person2", "person3"]
    return {"ids": ids, "deep": deep, "emails": emails, "worst": worst}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def served(url: str, data_dir: Path) -> AsyncIterator[str]:
    """``peoplesync serve`` on ``url`` in a second process; its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "PEOPLESYNC_DATABASE_URL": url,
        "PEOPLESYNC_DATA_DIR": str(data_dir),
        "PEOPLESYNC_LOG_LEVEL": "WARNING",
    }
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [*PEOPLESYNC, "serve", "--port", str(port), "--insecure-cookies", "--no-workers"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(600):
                if process.poll() is not None:
                    raise SystemExit(f"peoplesync serve exited; see {data_dir / 'serve.log'}")
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
        yield base
    except BaseException:
        log.flush()
        print((data_dir / "serve.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def log_in(http: httpx.AsyncClient) -> None:
    form = await http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = await http.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303, answer.text


def scenarios(found: dict[str, list[str]]) -> list[tuple[str, str, Callable[[int], str]]]:
    """(name, client, path of the i-th request)."""
    ids, deep, emails = found["ids"], found["deep"], found["emails"]

    def pick(values: list[str]) -> Callable[[int], str]:
        return lambda i: values[i % len(values)]

    names, none = pick(NAME_PREFIXES), pick(NO_MATCH_PREFIXES)
    email, person, cursor = pick(emails), pick(ids), pick(deep)
    worst = pick(found["worst"])
    table: list[tuple[str, str, Callable[[int], str]]] = []
    for prefix, client, base in (("page", "browser", "/people"), ("api", "api", "/api/v1/persons")):
        table += [
            (f"{prefix}_list_first", client, lambda _i, b=base: b),
            (f"{prefix}_list_deep", client, lambda i, b=base: f"{b}?after={cursor(i)}"),
            (f"{prefix}_search_name", client, lambda i, b=base: f"{b}?q={names(i)}"),
            (f"{prefix}_search_name_no_match", client, lambda i, b=base: f"{b}?q={none(i)}"),
            (f"{prefix}_search_email", client, lambda i, b=base: f"{b}?q={email(i)}"),
            (f"{prefix}_person", client, lambda i, b=base: f"{b}/{person(i)}"),
        ]
    table.append(("api_search_worst_case", "api", lambda i: f"/api/v1/persons?q={worst(i)}"))
    return table


async def measure(base: str, token: str, found: dict[str, list[str]], count: int) -> Any:
    results: dict[str, dict[str, float]] = {}
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as browser,
        httpx.AsyncClient(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as api,
    ):
        await log_in(browser)
        clients = {"browser": browser, "api": api}
        for name, client, path in scenarios(found):
            http = clients[client]
            timed: list[float] = []
            runs = max(1, count // 10) if name.endswith("worst_case") else count
            for i in range(-WARMUP if runs == count else 0, runs):
                started = time.perf_counter()
                answer = await http.get(path(i))
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise SystemExit(f"{name}: {path(i)} answered {answer.status_code}")
                if i >= 0:
                    timed.append(elapsed)
            results[name] = _figures(timed)
    return results


async def run_backend(name: str, url: str, args: argparse.Namespace, data_dir: Path) -> Any:
    engine = create_engine(url)
    try:
        fill_seconds = await fill(engine, args.persons, args.reuse)
        token = await credentials(engine)
        found = await samples(engine, args.persons)
    finally:
        await engine.dispose()
    load_before = os.getloadavg()
    async with served(url, data_dir) as base:
        results = await measure(base, token, found, args.requests)
    load_after = os.getloadavg()
    return {
        "benchmark": "web_latency",
        "backend": name,
        "persons": args.persons,
        "fill_seconds": round(fill_seconds, 1),
        "requests_per_scenario": args.requests,
        "target_p95_ms": TARGET_P95_MS,
        "over_target": sorted(k for k, v in results.items() if v["p95_ms"] > TARGET_P95_MS),
        "scenarios": results,
        "load_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


async def run(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            data_dir = Path(tmp) / backend
            data_dir.mkdir()
            if backend == "sqlite":
                path = Path(args.keep) if args.keep else data_dir / "bench.db"
                url = f"sqlite+aiosqlite:///{path.resolve()}"
                print(json.dumps(await run_backend("sqlite", url, args, data_dir)), flush=True)
                continue
            schema = args.keep or f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_URL)
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            try:
                url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
                print(json.dumps(await run_backend("postgres", url, args, data_dir)), flush=True)
            finally:
                if not args.keep:
                    async with admin.begin() as conn:
                        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="bench web_latency")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--keep", help="SQLite file or PostgreSQL schema to keep (one backend)")
    parser.add_argument("--reuse", action="store_true", help="use --keep as it is when full")
    args = parser.parse_args(argv)
    if args.keep and args.backend == "both":
        parser.error("--keep names one database: give --backend sqlite or postgres")
    asyncio.run(run(args))
