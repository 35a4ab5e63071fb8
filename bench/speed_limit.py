"""Sending speed limit: how evenly the real sender spaces messages.

Both runs queue SMS under one send key with a limit and let the real ``Sender`` (outbox on a
SQLite file, Infobip adapter, the sandbox provider app in process over ASGI) send them the
way ``messages work`` does: a round, and when nothing is due a pause until the next slot.

- simulated clock, 500/hour (one every 7.2 s): the clock jumps by each pause, so an hour of
  sending takes seconds. Spacing error = |interval - 7.2 s| / 7.2 s between consecutive sends.
- wall clock, 20/second (one every 50 ms): jitter = |interval - 50 ms| between consecutive
  sends, and lateness = time recorded sent - planned slot.

    python -m bench speed_limit --simulated 500 --wall 200

Either count may be 0 to leave its run out (``--wall 0``: the simulated run alone); a run
needs two messages or more, since it measures the intervals between sends.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import platform
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from peoplesync.clock import Clock, ManualClock, SystemClock
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.providers.infobip.client import InfobipAccount, InfobipProvider
from peoplesync.messaging.sender import Sender
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from peoplesync.people.database import create_engine, migrate
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs

REQUEST = {"shortenUrl": False, "trackClicks": False, "text": "Your code is 123456"}
KEY = "bench-speed"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def _send_all(
    folder: Path, clock: Clock, count: int, limit: SpeedLimit
) -> list[tuple[float, float]]:
    """(planned slot, recorded send) in seconds, for ``count`` messages sent under ``limit``."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'people.db'}")
    await migrate(engine)
    outbox = Outbox(engine, clock)
    drafts = [
        MessageDraft(f"s-{n}", "main", "sms", REQUEST | {"to": f"38591{n:06d}7"})
        for n in range(count)
    ]
    queued = await outbox.enqueue(drafts, limit=limit, limit_key="journey:bench:v1:sms")
    config = ProviderConfig(folder / "provider", KEY, knobs=ProviderKnobs())
    app = create_provider_app(config, run_reports=False)
    simulated = isinstance(clock, ManualClock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as http,
    ):
        provider = InfobipProvider(InfobipAccount("main", "http://p", KEY), http)
        sender = Sender(outbox, {"main": provider}, Webhooks(), clock)
        sent = 0
        while sent < count:
            done = await sender.run_once()
            sent += done.accepted
            if done.claimed:
                continue
            wait = await sender.pause(0.2)
            if simulated:
                assert isinstance(clock, ManualClock)
                clock.advance(timedelta(seconds=wait))
            else:
                await asyncio.sleep(wait)
    pairs = []
    for item in queued:
        message = await outbox.get(item.message_id)
        assert message is not None and message.sent_at is not None
        pairs.append((message.send_after.timestamp(), message.sent_at.timestamp()))
    await engine.dispose()
    return sorted(pairs)


def _spacing(pairs: list[tuple[float, float]], interval: float) -> dict[str, float]:
    sends = [sent for _, sent in pairs]
    errors = [abs((b - a) - interval) for a, b in itertools.pairwise(sends)]
    late = [sent - planned for planned, sent in pairs]
    return {
        "interval_s": interval,
        "error_mean_pct": round(statistics.mean(errors) / interval * 100, 3),
        "error_p99_pct": round(_percentile(errors, 0.99) / interval * 100, 3),
        "error_max_pct": round(max(errors) / interval * 100, 3),
        "jitter_p50_ms": round(statistics.median(errors) * 1000, 2),
        "jitter_p99_ms": round(_percentile(errors, 0.99) * 1000, 2),
        "jitter_max_ms": round(max(errors) * 1000, 2),
        "late_p99_ms": round(_percentile(late, 0.99) * 1000, 2),
        "rate_error_pct": round(
            abs((sends[-1] - sends[0]) / ((len(sends) - 1) * interval) - 1) * 100, 3
        ),
    }


async def run(simulated: int, wall: int, folder: Path) -> dict[str, Any]:
    """The runs asked for; 0 messages leaves a run out (spacing needs two sends or more)."""
    out: dict[str, Any] = {"benchmark": "speed_limit"}
    if simulated:
        where = folder / "simulated"
        where.mkdir()
        hourly = SpeedLimit(500, TimeUnit.HOUR)
        pairs = await _send_all(where, ManualClock(), simulated, hourly)
        out["simulated_500_per_hour"] = {"messages": simulated, **_spacing(pairs, 7.2)}
    if wall:
        where = folder / "wall"
        where.mkdir()
        pairs = await _send_all(where, SystemClock(), wall, SpeedLimit(1200, TimeUnit.MINUTE))
        out["wall_20_per_second"] = {"messages": wall, **_spacing(pairs, 0.05)}
    out["machine"] = f"{platform.machine()} python {platform.python_version()}"
    return out


def _messages(text: str) -> int:
    """A run's message count: 0 (left out) or at least 2 (one interval to measure)."""
    count = int(text)
    if count < 0 or count == 1:
        raise argparse.ArgumentTypeError("0 (leave the run out) or at least 2 messages")
    return count


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench speed_limit")
    parser.add_argument(
        "--simulated", type=_messages, default=500, help="messages at 500/hour (0: no run)"
    )
    parser.add_argument(
        "--wall", type=_messages, default=200, help="messages at 20/second (0: no run)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        figures = asyncio.run(run(args.simulated, args.wall, Path(workdir)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
