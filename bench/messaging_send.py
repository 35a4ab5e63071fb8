"""Send pipeline throughput: queue N SMS, then send them all into the sandbox provider.

Both the sandbox provider (served over loopback HTTP by `peoplesync sandbox provider`) and
the People database (SQLite, or --database-url) are real; the speed limit is off. Prints
JSON: messages/s to enqueue, to send (claim -> provider -> record), and end to end.

    python -m bench messaging_send --messages 20000 --batch 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from peoplesync.clock import SystemClock
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.providers.infobip.client import InfobipAccount, InfobipProvider
from peoplesync.messaging.sender import Sender
from peoplesync.people.database import create_engine, migrate

REQUEST = {"shortenUrl": False, "trackClicks": False, "text": "Your code is 123456"}


async def run(
    messages: int, batch: int, database_url: str, base_url: str, key: str
) -> dict[str, object]:
    engine = create_engine(database_url)
    await migrate(engine)
    clock = SystemClock()
    outbox = Outbox(engine, clock)
    drafts = [
        MessageDraft(f"bench-{n}", "main", "sms", REQUEST | {"to": f"38591{n:06d}7"})
        for n in range(messages)
    ]
    started = time.perf_counter()
    for start in range(0, messages, 5000):
        await outbox.enqueue(drafts[start : start + 5000])
    queued = time.perf_counter()
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        provider = InfobipProvider(InfobipAccount("main", base_url, key), http)
        sender = Sender(
            outbox, {"main": provider}, Webhooks(), clock, batch=batch, lease=timedelta(minutes=5)
        )
        accepted = 0
        while True:
            done = await sender.run_once()
            accepted += done.accepted
            if done.claimed == 0:
                break
    sent = time.perf_counter()
    await engine.dispose()
    return {
        "benchmark": "messaging_send",
        "messages": messages,
        "accepted": accepted,
        "batch": batch,
        "database": database_url.split(":")[0],
        "enqueue_per_second": round(messages / (queued - started)),
        "send_per_second": round(messages / (sent - queued)),
        "end_to_end_per_second": round(messages / (sent - started)),
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench messaging_send")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'people.db'}"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "peoplesync.cli.main",
                "sandbox",
                "provider",
                "--port",
                "0",
                "--data-dir",
                str(folder / "provider"),
                "--report-delay",
                "3600",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            info = json.loads(process.stdout.readline())
            figures = asyncio.run(
                run(args.messages, args.batch, database_url, info["base_url"], info["api_key"])
            )
        finally:
            process.terminate()
            process.communicate(timeout=30)
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
