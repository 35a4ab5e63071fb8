"""The report store and short-link follows in process (no HTTP): CPU, statements and commits.

On a machine other work shares, wall-clock rates wander; what the code itself costs shows in
this process's own CPU time (all its threads, the SQLite driver's included) and in how many
statements and commits it sends (counted by SQLAlchemy's events), which no load changes.

    python -m bench store_calls reports --reports 20000 --bucket 100 --concurrency 4
    python -m bench store_calls follows --links 20000 --follows 1500 --concurrency 1 8

``reports``: sent SMS in a SQLite file, then their delivery reports parsed and applied through
``ReportStore.apply_delivery``, ``--concurrency`` payloads at a time. ``follows``: tracked
links (the redirect bench's fill), then ``ShortLinks.follow`` on distinct codes picked at
random (so none is answered from memory), ``--concurrency`` at a time, each click recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.process_cpu import load_average
from bench.report_ingest import report, sent_messages
from bench.tracked_redirect import USER_AGENTS, fill
from peoplesync.clock import SystemClock
from peoplesync.messaging.links.devices import warm_up
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.report_store import ReportStore
from peoplesync.messaging.reports import parse_delivery_reports
from peoplesync.people.database import create_engine


class Counts:
    """Statements and commits sent on ``engine`` from now on."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.commits = 0
        sa.event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1


async def reports(url: str, count: int, bucket: int, concurrency: int) -> dict[str, Any]:
    messages = await sent_messages(url, count)
    bodies = [
        json.dumps({"results": [report(m, to, n) for n, (m, to) in enumerate(part)]})
        for part in (messages[s : s + bucket] for s in range(0, count, bucket))
    ]
    engine = create_engine(url)
    counts = Counts(engine)
    store = ReportStore(engine, SystemClock())

    async def poster() -> None:
        while bodies:
            body = bodies.pop()
            await store.apply_delivery(parse_delivery_reports(json.loads(body)).reports)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await engine.dispose()
    return {
        "reports": count,
        "bucket": bucket,
        "concurrency": concurrency,
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "reports_per_cpu_second": round(count / cpu),
        "statements_per_payload": round(counts.statements / (count / bucket), 2),
        "commits_per_payload": round(counts.commits / (count / bucket), 2),
    }


async def follows(url: str, links: int, count: int, concurrencies: list[int]) -> dict[str, Any]:
    engine = create_engine(url)
    _, codes = await fill(engine, links)
    warm_up()
    counts = Counts(engine)
    short_links = ShortLinks(engine, SystemClock())
    picks = random.Random(3).sample(codes, count * len(concurrencies) + 50)
    for code in picks[:50]:  # the pool's connections and the parser's rules, untimed
        await short_links.follow(code, USER_AGENTS[0])
    out: dict[str, Any] = {"links": links, "follows_per_run": count}
    for run, concurrency in enumerate(concurrencies):
        mine = picks[50 + run * count : 50 + (run + 1) * count]
        counts.statements = counts.commits = 0

        async def worker(first: int, mine: list[str] = mine, step: int = concurrency) -> None:
            for index in range(first, len(mine), step):
                if await short_links.follow(mine[index], USER_AGENTS[index % 3]) is None:
                    raise SystemExit(f"{mine[index]} not found")

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(first) for first in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        out[f"concurrency_{concurrency}"] = {
            "cpu_ms_per_follow": round(cpu * 1000 / count, 3),
            "wall_ms_per_follow": round(wall * 1000 / count, 3),
            "statements_per_follow": round(counts.statements / count, 2),
            "commits_per_follow": round(counts.commits / count, 2),
        }
    await engine.dispose()
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench store_calls")
    parser.add_argument("what", choices=["reports", "follows"])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--bucket", type=int, default=100)
    parser.add_argument("--links", type=int, default=20_000)
    parser.add_argument("--follows", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite+aiosqlite:///{Path(workdir) / 'people.db'}"
        if args.what == "reports":
            [concurrency] = args.concurrency or [4]
            figures = asyncio.run(reports(url, args.reports, args.bucket, concurrency))
        else:
            figures = asyncio.run(
                follows(url, args.links, args.follows, args.concurrency or [1, 8])
            )
    print(
        json.dumps(
            {"benchmark": f"store_calls {args.what}", **figures}
            | {"load_1min_before_after": [load_before, load_average()]}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
