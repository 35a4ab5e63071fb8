"""``peoplesync marketing-cloud add|list|remove``: secrets from the environment, sealed, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app

ADD = [
    "marketing-cloud",
    "add",
    "--name",
    "acme",
    "--mid",
    "5100123",
    "--client-id",
    "pkg-client",
    "--auth-url",
    "https://acme.auth.marketingcloudapis.com/",
]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("PEOPLESYNC_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PEOPLESYNC_MC_CLIENT_SECRET", "very-secret-client")
    monkeypatch.setenv("PEOPLESYNC_MC_JWT_SECRET", "very-secret-jwt")
    return CliRunner()


def test_add_then_list_shows_the_unit_and_its_endpoints_but_no_secret(
    runner: CliRunner, tmp_path: Path
) -> None:
    added = runner.invoke(app, [*ADD, "--json", "--public-url", "https://hub.example"])
    assert added.exit_code == 0, added.output
    unit = json.loads(added.stdout)
    assert unit["mid"] == "5100123" and unit["has_jwt_secret"] is True
    assert unit["endpoints"]["message"] == "https://hub.example/journey/acme/message/"
    listed = runner.invoke(app, ["marketing-cloud", "list", "--json"])
    assert [u["name"] for u in json.loads(listed.stdout)] == ["acme"]
    everything = added.output + listed.output
    assert "very-secret" not in everything
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert b"very-secret-client" not in stored and b"very-secret-jwt" not in stored


def test_obvious_mistakes_are_refused_by_field(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ADD).exit_code == 0
    twice = runner.invoke(app, ADD)
    assert twice.exit_code == 1 and "exists" in twice.output
    bad_mid = runner.invoke(app, [*ADD[:3], "other", "--mid", "abc", *ADD[6:]])
    assert bad_mid.exit_code == 1 and "MID" in bad_mid.output
    monkeypatch.setenv("PEOPLESYNC_MC_CLIENT_SECRET", "")
    no_secret = runner.invoke(app, [*ADD[:3], "third", *ADD[4:]])
    assert no_secret.exit_code == 1 and "PEOPLESYNC_MC_CLIENT_SECRET" in no_secret.output
    removed = runner.invoke(app, ["marketing-cloud", "remove", "acme"])
    assert removed.exit_code == 0
    assert runner.invoke(app, ["marketing-cloud", "remove", "acme"]).exit_code == 1


def test_write_back_settings_are_added_edited_and_checked(runner: CliRunner) -> None:
    added = runner.invoke(
        app,
        [
            *ADD,
            "--event-definition-key",
            "reply-event",
            "--report-storage",
            "external",
            "--reports-webhook",
            "https://store.example/reports",
            "--json",
        ],
    )
    assert added.exit_code == 0, added.output
    shown = json.loads(added.stdout)
    assert shown["event_definition_key"] == "reply-event"
    assert shown["reports_webhook_url"] == "https://store.example/reports"
    edit = ["marketing-cloud", "edit", "acme"]
    changed = runner.invoke(
        app,
        [
            *edit,
            "--inbound-webhook",
            "https://store.example/in",
            "--clicks-webhook",
            "https://store.example/clicks",
            "--event-definition-key",
            "",
            "--json",
        ],
    )
    assert changed.exit_code == 0, changed.output
    after = json.loads(changed.stdout)
    assert after["inbound_webhook_url"] == "https://store.example/in"
    assert after["clicks_webhook_url"] == "https://store.example/clicks"
    assert after["event_definition_key"] is None  # "" clears
    assert after["reports_webhook_url"] == "https://store.example/reports"  # kept
    bad_url = runner.invoke(app, [*edit, "--reports-webhook", "ftp://store.example"])
    assert bad_url.exit_code == 1 and "reports webhook" in bad_url.output
    bad_key = runner.invoke(app, [*edit, "--event-definition-key", "a.b"])
    assert bad_key.exit_code == 1 and "event definition key" in bad_key.output
    missing = runner.invoke(app, ["marketing-cloud", "sync-reports", "nobody", "--once"])
    assert missing.exit_code == 1 and "no business unit" in missing.output


def test_named_salt_keys_come_from_the_environment_and_only_their_names_are_shown(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEOPLESYNC_MC_SALT_KEY", "0x6b657973616c74")
    added = runner.invoke(app, [*ADD, "--salt-key", "sms-salt", "--json"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["salt_key_names"] == ["sms-salt"]
    monkeypatch.setenv("PEOPLESYNC_MC_SALT_KEY", "0xabcdef0123")
    edit = ["marketing-cloud", "edit", "acme"]
    second = runner.invoke(app, [*edit, "--salt-key", "push-salt", "--json"])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["salt_key_names"] == ["push-salt", "sms-salt"]
    listed = runner.invoke(app, ["marketing-cloud", "list", "--json"])
    assert json.loads(listed.stdout)[0]["salt_key_names"] == ["push-salt", "sms-salt"]
    for output in (added.output, second.output, listed.output):
        assert "6b657973616c74" not in output and "abcdef0123" not in output
    removed = runner.invoke(app, [*edit, "--remove-salt-key", "sms-salt", "--json"])
    assert json.loads(removed.stdout)["salt_key_names"] == ["push-salt"]
    unknown = runner.invoke(app, [*edit, "--remove-salt-key", "sms-salt"])
    assert unknown.exit_code == 1 and "no salt key named 'sms-salt'" in " ".join(
        unknown.output.split()
    )
    monkeypatch.setenv("PEOPLESYNC_MC_SALT_KEY", "0xnot-hex-secret")
    bad = runner.invoke(app, [*edit, "--salt-key", "x"])
    assert bad.exit_code == 1 and "not hexadecimal" in " ".join(bad.output.split())
    assert "not-hex-secret" not in bad.output
    monkeypatch.delenv("PEOPLESYNC_MC_SALT_KEY")
    empty = runner.invoke(app, [*edit, "--salt-key", "x"])
    assert empty.exit_code == 1 and "PEOPLESYNC_MC_SALT_KEY" in empty.output
