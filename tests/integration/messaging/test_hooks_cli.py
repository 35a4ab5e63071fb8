"""``peoplesync messages webhooks``: each account's report URLs on a SQLite data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.messaging.hook_urls import hook_token
from peoplesync.secret_box import SecretBox


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("PEOPLESYNC_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PEOPLESYNC_PROVIDER_API_KEY", "k-1")
    return CliRunner()


def test_webhooks_prints_each_accounts_urls(runner: CliRunner, tmp_path: Path) -> None:
    for name in ("main", "second one"):
        added = runner.invoke(app, ["providers", "add", name, "--base-url", "https://x.test"])
        assert added.exit_code == 0, added.output
    shown = runner.invoke(
        app, ["messages", "webhooks", "--public-url", "https://people.example.com/", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    box = SecretBox.from_data_dir(tmp_path / "data")
    main, second = json.loads(shown.stdout)
    token = hook_token(box, "main")
    assert main == {
        "account": "main",
        "delivery": f"https://people.example.com/hooks/messaging/main/delivery?token={token}",
        "seen": f"https://people.example.com/hooks/messaging/main/seen?token={token}",
        "inbound": f"https://people.example.com/hooks/messaging/main/inbound?token={token}",
        "click": f"https://people.example.com/hooks/messaging/main/click?token={token}",
    }
    assert second["delivery"].startswith(
        "https://people.example.com/hooks/messaging/second%20one/delivery?token="
    )
    assert token not in second["delivery"]  # each account has its own token


def test_webhooks_needs_a_public_url(runner: CliRunner) -> None:
    missing = runner.invoke(app, ["messages", "webhooks"])
    assert missing.exit_code == 1 and "--public-url" in missing.output
    runner.invoke(app, ["providers", "add", "main", "--base-url", "https://x.test"])
    bad = runner.invoke(app, ["messages", "webhooks", "--public-url", "people.example.com"])
    assert bad.exit_code == 1 and "not an http(s) address" in bad.output
