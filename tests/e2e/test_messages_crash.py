"""The send worker SIGKILLed 20 times mid-send: every message reaches the provider once."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peoplesync.clock import SystemClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.people.database import create_engine, migrate
from tests.served_org import PEOPLESYNC, served_sandbox
from tests.unit.messaging.test_channel_validation import VALID

MESSAGES = 1200
KILLS = 20


@contextmanager
def sandbox_provider(data_dir: Path, *options: str) -> Iterator[dict[str, Any]]:
    with served_sandbox("provider", data_dir, *options) as info:
        yield info


def provider_state(info: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{info['base_url']}/sandbox/messages?limit=5000",
        headers={"Authorization": f"App {info['api_key']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        state: dict[str, Any] = json.loads(response.read())
    return state


async def _enqueue(url: str) -> list[str]:
    engine = create_engine(url)
    await migrate(engine)
    outbox = Outbox(engine, SystemClock())
    drafts = [
        MessageDraft(
            f"crash-{n}",
            "main",
            "sms",
            VALID[Channel.SMS] | {"to": f"38591{n:06d}7", "text": f"#{n}"},
        )
        for n in range(1, MESSAGES + 1)
    ]
    queued = await outbox.enqueue(drafts)
    await engine.dispose()
    return [q.message_id for q in queued]


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    counts = await Outbox(engine, SystemClock()).counts()
    await engine.dispose()
    return counts


def test_killed_workers_neither_lose_nor_double_send(tmp_path: Path) -> None:
    rng = random.Random(5)
    with sandbox_provider(tmp_path / "provider", "--latency-ms", "40") as info:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
            "PEOPLESYNC_PROVIDER_API_KEY": info["api_key"],
        }
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'peoplesync.db'}"
        subprocess.run(
            [*PEOPLESYNC, "providers", "add", "main", "--base-url", info["base_url"]],
            env=env,
            check=True,
            capture_output=True,
        )
        ids = asyncio.run(_enqueue(url))
        work = [*PEOPLESYNC, "messages", "work", "--lease", "1", "--batch", "4"]
        kills = 0
        while kills < KILLS:
            before = provider_state(info)["stored"]
            worker = subprocess.Popen(
                work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 120
            while provider_state(info)["stored"] == before and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the middle of a round
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            kills += 1
            if provider_state(info)["stored"] >= MESSAGES:
                break
        assert kills == KILLS, "the messages ran out before 20 kills; send more"
        time.sleep(1.2)  # the killed worker's leases run out
        finish = subprocess.run(
            [*work, "--until-idle", "--json"], env=env, capture_output=True, text=True, timeout=600
        )
        assert finish.returncode == 0, finish.stderr
        state = provider_state(info)
        assert state["stored"] == MESSAGES  # each message reached the provider once
        assert {m["messageId"] for m in state["messages"]} == set(ids)
        # Numbers end in 7: the sandbox delivers them all (see its outcome table).
        assert asyncio.run(_counts(url)) == {"accepted": MESSAGES}
    # A worker killed mid-request is a caller gone, not an error of the provider's.
    assert "Exception in ASGI application" not in (tmp_path / "provider.stderr").read_text()
