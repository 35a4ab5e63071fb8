"""`sync run --follow` and `push run --follow` honour step schedules and pick a changed one up
without a restart."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.served_org import PEOPLESYNC, connect, enable_outbound, environment, served_org


@contextmanager
def _following(env: dict[str, str], *args: str) -> Iterator[queue.Queue[str]]:
    """A following run's output lines as they come (read on a thread, so waits can time
    out); the run is stopped on exit."""
    follow = subprocess.Popen(
        [*PEOPLESYNC, *args, "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert follow.stdout is not None
        for line in follow.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield lines
    finally:
        follow.terminate()
        follow.wait(timeout=30)
        if follow.stdout is not None:
            follow.stdout.close()


def _passes(lines: queue.Queue[str], count: int) -> list[dict[str, Any]]:
    return [json.loads(lines.get(timeout=120)) for _ in range(count)]


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_follow_skips_manual_steps_until_their_schedule_changes(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "15", "--seed-contacts", "5") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        _cli(env, "steps", "schedule", "Lead", "--manual")
        with _following(env, "sync", "run", "--no-stream", "--interval", "0.3") as lines:
            before = _passes(lines, 3)
            assert all("Lead" not in p and "Contact" in p for p in before)
            assert before[0]["Contact"]["created"] == 5
            _cli(env, "steps", "schedule", "Lead", "--every", "1m")  # while it runs
            for _ in range(1000):  # the passes that started before the change skip Lead
                ran = _passes(lines, 1)[0]
                if "Lead" in ran:
                    break
            assert ran["Lead"]["read"] == 15
            # once, then not again within its minute, while the real-time steps go on
            assert all("Lead" not in p and "Contact" in p for p in _passes(lines, 3))


def test_push_follow_waits_for_its_schedule_and_picks_up_a_change(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed", "3") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        enable_outbound(env)
        _cli(env, "steps", "schedule", "Person to Lead", "--hourly", "1")
        with _following(env, "push", "run", "--interval", "0.2") as lines:
            assert _passes(lines, 1)[0]["created"] == 0  # never ran: due at once
            people = tmp_path / "people.jsonl"
            person = {"email": "hourly@push.example", "last_name": "Hourly", "company": "H"}
            people.write_text(json.dumps(person) + "\n")
            _cli(env, "people", "import", str(people), "--json")
            # Not due for an hour: the loop pushes nothing until the schedule changes (a
            # loop ignoring it would print a pass every 0.2 s, and push the person).
            _cli(env, "steps", "schedule", "Person to Contact", "--realtime")
            assert _passes(lines, 1)[0]["created"] == 1
