"""The operator's CLI: sender names, `messages send` with the account's sender and the
channel's refusals (not stored), `providers remove` guarded while messages wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from tests.unit.messaging.test_channel_validation import VALID


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("PEOPLESYNC_PROVIDER_API_KEY", "k-1")
    return CliRunner()


def flat(text: str) -> str:
    """Console output without Rich's line wrapping."""
    return " ".join(text.split())


def test_sender_names_send_and_a_guarded_remove(runner: CliRunner) -> None:
    nobody = runner.invoke(app, ["messages", "send", "--channel", "sms", "--to", "+38591"])
    assert nobody.exit_code == 1 and "no provider account 'main'" in flat(nobody.output)
    assert (
        runner.invoke(app, ["providers", "add", "main", "--base-url", "https://x.test"]).exit_code
        == 0
    )
    bad_url = runner.invoke(app, ["providers", "add", "two", "--base-url", "x.test"])
    assert bad_url.exit_code == 1 and "field 'base_url'" in flat(bad_url.output)
    added = runner.invoke(app, ["providers", "senders", "main", "--add", "InfoSMS", "--json"])
    assert json.loads(added.stdout) == {"sms": ["InfoSMS"]}
    long = runner.invoke(app, ["providers", "senders", "main", "--add", "x" * 16])
    assert long.exit_code == 1 and "at most 15" in flat(long.output)

    refused = runner.invoke(
        app, ["messages", "send", "--channel", "sms", "--to", "", "--text", "Hi", "--json"]
    )
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["messageStatus"] == "Error: Missing phone number in request"
    sent = runner.invoke(
        app,
        ["messages", "send", "--channel", "sms", "--to", "+385911234567", "--text", "Hi", "--json"],
    )
    assert sent.exit_code == 0, sent.output
    message_id = json.loads(sent.stdout)["message_id"]
    shown = json.loads(runner.invoke(app, ["messages", "show", message_id, "--json"]).stdout)
    assert shown["person_id"] is None and shown["state"] == "queued"
    listed = json.loads(runner.invoke(app, ["messages", "list", "--json"]).stdout)
    assert [m["message_id"] for m in listed] == [message_id]  # the refusal was not stored

    guarded = runner.invoke(app, ["providers", "remove", "main"])
    assert guarded.exit_code == 1 and "1 message(s) wait to be sent" in flat(guarded.output)
    forced = runner.invoke(app, ["providers", "remove", "main", "--force", "--json"])
    assert json.loads(forced.stdout) == {"name": "main", "removed": True}


def test_messages_send_takes_every_channel_with_its_request_fields(runner: CliRunner) -> None:
    added = runner.invoke(app, ["providers", "add", "main", "--base-url", "https://x.test"])
    assert added.exit_code == 0, added.output
    for channel, valid in VALID.items():
        fields = dict(valid)
        command = ["messages", "send", "--channel", channel.value, "--to", str(fields.pop("to"))]
        if "text" in fields:
            command += ["--text", str(fields.pop("text"))]
        if "from" in fields:
            command += ["--from", str(fields.pop("from"))]
        sent = runner.invoke(app, [*command, "--request", json.dumps(fields), "--json"])
        assert sent.exit_code == 0, (channel, sent.output)
        message_id = json.loads(sent.stdout)["message_id"]
        shown = json.loads(runner.invoke(app, ["messages", "show", message_id, "--json"]).stdout)
        assert shown["channel"] == channel.value
        assert {k: shown["request"][k] for k in fields} == fields
    bad = runner.invoke(
        app,
        [
            "messages",
            "send",
            "--channel",
            "whatsapp",
            "--to",
            "385912345678",
            "--from",
            "4478",
            "--request",
            '{"templateName": "Bad Name"}',
            "--json",
        ],
    )
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["messageStatus"] == "Error: Invalid template name"


def test_an_unknown_account_state_or_channel_is_an_error_not_an_empty_answer(
    runner: CliRunner,
) -> None:
    nowhere = runner.invoke(app, ["providers", "senders", "nope"])
    assert nowhere.exit_code == 1
    assert "no provider account 'nope'" in flat(nowhere.output)
    assert "providers list" in flat(nowhere.output)
    lost = runner.invoke(app, ["messages", "list", "--state", "lost"])
    assert lost.exit_code == 1
    assert "unknown status 'lost'" in flat(lost.output) and "delivered" in flat(lost.output)
    pigeon = runner.invoke(app, ["messages", "list", "--channel", "pigeon", "--json"])
    assert pigeon.exit_code == 1 and "unknown channel 'pigeon'" in flat(pigeon.output)
    delivered = runner.invoke(app, ["messages", "list", "--state", "delivered", "--json"])
    assert (delivered.exit_code, json.loads(delivered.stdout)) == (0, [])
