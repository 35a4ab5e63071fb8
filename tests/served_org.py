"""Run `peoplesync sandbox salesforce` as a separate process for end-to-end tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli"]


@contextmanager
def served_org(data_dir: Path, *options: str) -> Iterator[dict[str, Any]]:
    """Start the org (``options`` are CLI flags such as ``--seed-leads 10``); yield its info line."""
    process = subprocess.Popen(
        [
            *PEOPLESYNC,
            "sandbox",
            "salesforce",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
