"""A real `peoplesync serve` on a free port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from tests.served_org import PEOPLESYNC

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "browser test password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Server:
    """A running peoplesync web server and an API token of its admin."""

    url: str
    token: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli(env: dict[str, str], *args: str) -> str:
    """A `peoplesync` command run in this process with ``env`` as its environment (without
    PEOPLESYNC_DATABASE_URL): its output. Starting an interpreter costs seconds of CPU."""
    done = CliRunner().invoke(
        app, list(args), env={**env, "PEOPLESYNC_DATABASE_URL": None}, catch_exceptions=False
    )
    assert done.exit_code == 0, done.output
    return done.stdout.strip()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`peoplesync serve` on SQLite in a temporary data directory, with an admin user."""
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_USER_PASSWORD": ADMIN_PASSWORD,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)

    run_cli(env, "users", "add", ADMIN_EMAIL, "--role", "admin")
    token = run_cli(env, "users", "token", ADMIN_EMAIL)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*PEOPLESYNC, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        yield Server(url, token)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Debian Chromium; missing Chromium fails in CI and skips elsewhere."""
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
