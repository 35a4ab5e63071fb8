"""Tracked redirect latency: GET /{code} with N short links stored, over a real HTTP server.

Usage: python -m bench tracked_redirect [--links N] [--requests N] [--concurrency C ...]
       [--backend sqlite|postgres|both]
Prints one JSON document per backend.

The database gets ``--links`` short links (four a message, with their messages, and a
thousand persons whose phones match the first messages) through one bulk insert; then
``peoplesync serve`` runs as a second process on a loopback port (uvicorn, the real app
and its middleware) and this process follows links chosen at random over the whole table,
with ``C`` requests in flight at a time, timing each from sending to the 302's last byte.
Every click is recorded before the redirect is answered (the bench checks the count). 50
untimed requests first load the user-agent rules and warm the connection pool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.people_upsert import postgres_schema
from bench.report_ingest import server_cpu_seconds
from bench.web_latency import _figures, served
from peoplesync.clock import SystemClock
from peoplesync.messaging.links.codes import new_code
from peoplesync.messaging.links.tables import link_clicks, short_links
from peoplesync.messaging.tables import outbound_messages
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore

LINKS_PER_MESSAGE = 4
BATCH = 20_000
WARMUP = 50
TARGET_P99_MS = 20.0
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
USER_AGENTS = [
    PHONE_UA,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
]


def _recipient(n: int) -> str:
    return f"38591{n:07d}"


async def fill(engine: AsyncEngine, links: int) -> tuple[dict[str, float], list[str]]:
    """Messages, their links and a few persons, in bulk; seconds and rows a second."""
    await migrate(engine)
    now = datetime.now(UTC)
    messages = (links + LINKS_PER_MESSAGE - 1) // LINKS_PER_MESSAGE
    started = time.perf_counter()
    async with engine.begin() as conn:
        for start in range(0, messages, BATCH):
            await conn.execute(
                sa.insert(outbound_messages),
                [
                    {
                        "id": f"m{n:09d}",
                        "idempotency_key": f"bench-{n}",
                        "account": "main",
                        "channel": "sms",
                        "recipient": _recipient(n),
                        "request": {"text": "Sale"},
                        "state": "accepted",
                        "status": "Success: Message pending",
                        "send_after": now,
                        "created_at": now,
                    }
                    for n in range(start, min(start + BATCH, messages))
                ],
            )
    messages_done = time.perf_counter()
    codes: list[str] = []
    async with engine.begin() as conn:
        for start in range(0, links, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, links)):
                code = new_code()
                codes.append(code)
                rows.append(
                    {
                        "code": code,
                        "message_id": f"m{n // LINKS_PER_MESSAGE:09d}",
                        "position": n % LINKS_PER_MESSAGE,
                        "url": f"https://shop.example.com/item/{n}?utm_source=sms",
                        "base": "https://people.example.com",
                        "tracked": True,
                        "created_at": now,
                    }
                )
            await conn.execute(sa.insert(short_links), rows)
    links_done = time.perf_counter()
    store = SqlPeopleStore(engine, SystemClock(), batch_size=5000)
    await store.upsert_persons(
        [PersonInput(phones=[f"+{_recipient(n)}"]) for n in range(1000)], origin="bench"
    )
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))
    figures = {
        "messages": messages,
        "messages_seconds": round(messages_done - started, 1),
        "links_seconds": round(links_done - messages_done, 1),
        "links_per_second": round(links / (links_done - messages_done)),
    }
    return figures, codes


async def follow(base: str, codes: list[str], requests: int, concurrency: int) -> list[float]:
    """Time ``requests`` redirects, ``concurrency`` in flight; milliseconds each."""
    rng = random.Random(11)
    picks = [rng.choice(codes) for _ in range(requests)]
    timed: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def one(worker: int) -> None:
            for index in range(worker, requests, concurrency):
                headers = {"User-Agent": USER_AGENTS[index % len(USER_AGENTS)]}
                started = time.perf_counter()
                answer = await http.get(f"/{picks[index]}", headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 302:
                    raise SystemExit(f"/{picks[index]} answered {answer.status_code}")
                timed.append(elapsed)

        await asyncio.gather(*(one(worker) for worker in range(concurrency)))
    return timed


async def run_backend(name: str, url: str, args: argparse.Namespace, data_dir: Path) -> Any:
    engine = create_engine(url)
    try:
        filled, codes = await fill(engine, args.links)
    finally:
        await engine.dispose()
    results: dict[str, Any] = {}
    total = 0
    load_before = os.getloadavg()
    async with served(url, data_dir) as base:
        await follow(base, codes, WARMUP, 4)
        total += WARMUP
        for concurrency in args.concurrency:
            started = time.perf_counter()
            cpu_before = server_cpu_seconds()
            timed = await follow(base, codes, args.requests, concurrency)
            seconds = time.perf_counter() - started
            cpu = server_cpu_seconds() - cpu_before
            total += args.requests
            # The server's own CPU a redirect: what other load on the machine changes least.
            results[f"concurrency_{concurrency}"] = _figures(timed) | {
                "redirects_per_second": round(args.requests / seconds),
                "server_cpu_ms_per_redirect": round(cpu * 1000 / args.requests, 2),
            }
    load_after = os.getloadavg()
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            clicks = int(
                await conn.scalar(sa.select(sa.func.count()).select_from(link_clicks)) or 0
            )
    finally:
        await engine.dispose()
    if clicks != total:
        raise SystemExit(f"{total} redirects answered but {clicks} clicks recorded")
    return {
        "benchmark": "tracked_redirect",
        "backend": name,
        "links": args.links,
        "fill": filled,
        "requests_per_run": args.requests,
        "clicks_recorded": clicks,
        "target_p99_ms": TARGET_P99_MS,
        "runs": results,
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
                url = f"sqlite+aiosqlite:///{(data_dir / 'bench.db').resolve()}"
                print(json.dumps(await run_backend("sqlite", url, args, data_dir)), flush=True)
                continue
            async with postgres_schema() as url:
                print(json.dumps(await run_backend("postgres", url, args, data_dir)), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="bench tracked_redirect")
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000, help="timed redirects per run")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 8], help="requests in flight, per run"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    asyncio.run(run(parser.parse_args(argv)))
