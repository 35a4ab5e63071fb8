"""`peoplesync serve` on its real server (uvloop, httptools): a line a request in the log by
default, none with --no-access-log (for busy Journey Builder endpoints)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import _free_port
from tests.served_org import PEOPLESYNC


def _serve_and_ask(tmp_path: Path, *options: str) -> str:
    env = {**os.environ, "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    port = _free_port()
    log_path = tmp_path / f"serve{len(options)}.log"
    with log_path.open("w") as log:
        serve = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--no-workers", *options],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/health?probe=1", timeout=2)
                    break
                except httpx.TransportError:
                    assert serve.poll() is None, log_path.read_text()
                    if time.monotonic() > deadline:
                        pytest.fail(log_path.read_text())
                    time.sleep(0.3)
            assert answer.json() == {"status": "ok"}
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    return log_path.read_text()


def test_the_access_log_is_on_by_default_and_off_when_asked(tmp_path: Path) -> None:
    logged = _serve_and_ask(tmp_path)
    assert "GET /health?probe=1" in logged
    quiet = _serve_and_ask(tmp_path, "--no-access-log")
    assert "peoplesync is serving" in quiet
    assert "GET /health" not in quiet
