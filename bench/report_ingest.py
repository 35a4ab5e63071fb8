"""Delivery-report ingest: reports/s through peoplesync's real webhook receiver over HTTP.

N SMS are put in the outbox as sent (real SQLite file, or --database-url); ``peoplesync
serve --no-workers`` runs as a second process on the same database; then their delivery
reports are POSTed to the account's delivery URL as Infobip sends them: ``{"results": [...]}``
of up to 100 reports (its default bucket), several requests in flight. Each report updates
its message, adds an event, a report row (the SMS Delivery Reports columns) and, for a
person with the number, a timeline event. Prints JSON: reports/s on the wall clock, and
reports per CPU second of the receiving process (Linux /proc), which other load on the
machine does not change.

    python -m bench report_ingest --reports 20000 --bucket 100 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.web_latency import served
from peoplesync.clock import SystemClock
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.tables import message_events, message_reports, outbound_messages
from peoplesync.people.database import create_engine, migrate
from peoplesync.secret_box import SecretBox

REQUEST = {"shortenUrl": False, "trackClicks": False, "text": "Your code is 123456"}


async def sent_messages(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` SMS in the outbox, marked accepted by the provider: (id, recipient)."""
    engine = create_engine(url)
    await migrate(engine)
    outbox = Outbox(engine, SystemClock())
    drafts = [
        MessageDraft(f"ingest-{n}", "main", "sms", REQUEST | {"to": f"38591{n:06d}7"})
        for n in range(count)
    ]
    out: list[tuple[str, str]] = []
    for start in range(0, count, 5000):
        queued = await outbox.enqueue(drafts[start : start + 5000])
        out += [(q.message_id, f"38591{n:06d}7") for n, q in enumerate(queued, start)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(outbound_messages).values(
                state="accepted", sent_at=SystemClock().now(), provider_status="PENDING_ACCEPTED"
            )
        )
    await engine.dispose()
    return out


def report(message_id: str, to: str, n: int) -> dict[str, Any]:
    """One v3 delivery report, as the provider sends it."""
    return {
        "bulkId": "bench-bulk",
        "price": {"pricePerMessage": 0.01, "currency": "EUR"},
        "status": {
            "groupId": 3,
            "groupName": "DELIVERED",
            "id": 5,
            "name": "DELIVERED_TO_HANDSET",
            "description": "Message delivered to handset",
        },
        "error": {
            "groupId": 0,
            "groupName": "OK",
            "id": 0,
            "name": "NO_ERROR",
            "description": "No Error",
            "permanent": False,
        },
        "messageId": message_id,
        "to": to,
        "sender": "InfoSMS",
        "sentAt": "2027-01-15T08:00:00.000+0000",
        "doneAt": f"2027-01-15T08:00:{n % 60:02d}.000+0000",
        "messageCount": 1,
    }


async def post_all(
    base: str, url: str, messages: list[tuple[str, str]], bucket: int, concurrency: int
) -> dict[str, Any]:
    bodies = [
        {"results": [report(mid, to, n) for n, (mid, to) in enumerate(messages[s : s + bucket])]}
        for s in range(0, len(messages), bucket)
    ]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    applied = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:

        async def poster() -> None:
            nonlocal applied
            while not queue.empty():
                body = queue.get_nowait()
                began = time.perf_counter()
                answer = await http.post(url, json=body)
                latencies.append(time.perf_counter() - began)
                answer.raise_for_status()
                applied += answer.json()["applied"]

        started = time.perf_counter()
        await asyncio.gather(*(poster() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(bodies),
        "applied": applied,
        "seconds": round(elapsed, 2),
        "reports_per_second": round(len(messages) / elapsed),
        "request_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "request_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def server_cpu_seconds() -> float:
    """CPU time (user + system) so far of this process's ``peoplesync serve`` child."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"serve" in command:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def stored(url: str) -> dict[str, int]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(sa.func.count()).select_from(message_reports))
        events = await conn.execute(
            sa.select(sa.func.count()).where(message_events.c.kind == "delivered")
        )
        counts = {"report_rows": int(rows.scalar_one()), "events": int(events.scalar_one())}
    await engine.dispose()
    return counts


async def run(
    count: int, bucket: int, concurrency: int, url: str, data_dir: Path
) -> dict[str, Any]:
    messages = await sent_messages(url, count)
    box = SecretBox.from_data_dir(data_dir)  # the key ``serve`` derives its tokens from
    delivery = hook_urls("http://bench", box, "main").delivery_url or ""
    path = delivery.removeprefix("http://bench")
    async with served(url, data_dir) as base:
        cpu_before = server_cpu_seconds()
        figures = await post_all(base, path, messages, bucket, concurrency)
        cpu = server_cpu_seconds() - cpu_before
    # On a machine other work shares, wall-clock rates wander; the receiver's own CPU time a
    # report says what one free core would take.
    figures["server_cpu_seconds"] = round(cpu, 2)
    figures["reports_per_server_cpu_second"] = round(count / cpu) if cpu else None
    return {
        "benchmark": "report_ingest",
        "reports": count,
        "bucket": bucket,
        "concurrency": concurrency,
        "database": url.split(":")[0],
        **figures,
        **await stored(url),
        "machine": f"{platform.machine()} python {platform.python_version()}",
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench report_ingest")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--bucket", type=int, default=100, help="reports a request (Infobip: 100)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        data_dir = Path(workdir)
        url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'people.db'}"
        figures = asyncio.run(run(args.reports, args.bucket, args.concurrency, url, data_dir))
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
