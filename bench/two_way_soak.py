"""The two-way soak at full length: tests/e2e/test_two_way_soak.py with five minutes of random
edits on both sides (CI runs it for one minute). Prints whether it passed and how long it took."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

TEST = "tests/e2e/test_two_way_soak.py"


def run(seconds: float) -> dict[str, object]:
    root = Path(__file__).resolve().parent.parent
    load = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env={**os.environ, "PEOPLESYNC_SOAK_SECONDS": str(seconds)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stdout[-4000:], file=sys.stderr)
    return {
        "benchmark": "two_way_soak",
        "soak_seconds": seconds,
        "passed": done.returncode == 0,
        "wall_seconds": round(time.monotonic() - started, 1),
        "load_average_at_start": round(load, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} cores python {platform.python_version()}",
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench two_way_soak")
    parser.add_argument("--seconds", type=float, default=300.0, help="seconds of random edits")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.seconds)))
