"""`sync run --follow` honours step schedules and picks a changed one up without a restart."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

from tests.served_org import PEOPLESYNC, connect, environment, served_org


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The process's output lines as they come (read on a thread, so waits can time out)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _passes(lines: queue.Queue[str], count: int) -> list[dict[str, Any]]:
    return [json.loads(lines.get(timeout=120)) for _ in range(count)]


def _schedule(env: dict[str, str], *options: str) -> None:
    done = subprocess.run(
        [*PEOPLESYNC, "steps", "schedule", "Lead", *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_follow_skips_manual_steps_until_their_schedule_changes(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "15", "--seed-contacts", "5") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        _schedule(env, "--manual")
        follow = subprocess.Popen(
            [*PEOPLESYNC, "sync", "run", "--follow", "--no-stream", "--interval", "0.3", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert follow.stdout is not None
            lines = _lines(follow.stdout)
            before = _passes(lines, 3)
            assert all("Lead" not in p and "Contact" in p for p in before)
            assert before[0]["Contact"]["created"] == 5
            _schedule(env, "--every", "1m")  # while the loop runs: no restart
            for _ in range(1000):  # the passes that started before the change skip Lead
                ran = _passes(lines, 1)[0]
                if "Lead" in ran:
                    break
            assert ran["Lead"]["read"] == 15
            # once, then not again within its minute, while the real-time steps go on
            assert all("Lead" not in p and "Contact" in p for p in _passes(lines, 3))
        finally:
            follow.terminate()
            follow.wait(timeout=30)
            if follow.stdout is not None:
                follow.stdout.close()
