"""``peoplesync providers inbound`` against the sandbox provider as a process over HTTPS: read
a number's state, create, refuse a second create, remove; a shared number is refused."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from tests.e2e.test_messages_crash import sandbox_provider
from tests.served_org import PEOPLESYNC

KEY = "e2e-inbound-key"
PUBLIC = "https://people.example.com"


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_PROVIDER_API_KEY": KEY,
        "PEOPLESYNC_PUBLIC_URL": PUBLIC,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    return subprocess.run(
        [*PEOPLESYNC, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_inbound_number_states_from_the_cli(tmp_path: Path) -> None:
    with sandbox_provider(tmp_path / "provider", "--https", "--api-key", KEY) as info:
        added = _cli(
            tmp_path, "providers", "add", "main", "--base-url", info["base_url"],
            "--ca-cert", info["ca_cert"],
        )  # fmt: skip
        assert added.returncode == 0, added.stderr

        def inbound(*extra: str) -> subprocess.CompletedProcess[str]:
            return _cli(tmp_path, "providers", "inbound", "main", "+385981000123", *extra)

        shown = inbound("--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["state"] == "not_configured"

        created = inbound("--create", "--json")
        assert created.returncode == 0, created.stderr
        body = json.loads(created.stdout)
        assert (body["state"], body["action"]) == ("ours", "remove")
        assert body["forwards_to"] == f"{PUBLIC}/hooks/messaging/main/inbound"

        again = inbound("--create")
        assert again.returncode == 1
        assert "already forwards its replies to peoplesync" in " ".join(again.stderr.split())

        removed = inbound("--remove")
        assert removed.returncode == 0, removed.stderr
        assert "has no inbound configuration" in removed.stdout
        assert "--create forwards them to peoplesync" in removed.stdout

        shared = _cli(tmp_path, "providers", "inbound", "main", "385981000999", "--create")
        assert shared.returncode == 1
        assert "shared" in shared.stderr and KEY not in shared.stderr + shared.stdout


def test_one_action_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    both = CliRunner().invoke(
        app, ["providers", "inbound", "main", "+385981000123", "--create", "--remove"]
    )
    assert both.exit_code == 2 and "at most one" in both.output
