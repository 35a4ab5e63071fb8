"""Bad input (issue 14, Done when): unknown channel, missing phone, oversized media, callback
data over 4,000 characters. Each message gets a clear status naming its field, in a batch
with good ones, and nothing else is lost: the good messages are sent, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.outbox import MessageDraft
from tests.integration.messaging.conftest import Rig, draft
from tests.unit.messaging.test_channel_validation import VALID

BIG_MEDIA = [{"url": "https://cdn.example.com/big.mp4", "size": 2_000_000}]


async def test_each_bad_message_is_named_and_the_good_ones_are_sent(rig: Rig) -> None:
    drafts = [
        draft("good-1", Channel.SMS, "385911234501"),
        MessageDraft("fax", "main", "fax", {"to": "385911234502", "text": "hi"}),
        draft("no-phone", Channel.SMS, ""),
        draft("big-media", Channel.MMS, "14155550100", media=BIG_MEDIA),
        draft("long-fields", Channel.SMS, "385911234503", callbackData={"note": "x" * 4000}),
        MessageDraft(
            "long-string", "main", "sms", VALID[Channel.SMS] | {"to": "385911234504"}, "y" * 4001
        ),
        draft("good-2", Channel.VIBER, "385911234505"),
    ]
    queued = await rig.outbox.enqueue(drafts)
    verdicts = {d.idempotency_key: (q.status, q.field) for d, q in zip(drafts, queued, strict=True)}
    assert verdicts == {
        "good-1": ("Success: Message pending", None),
        "fax": ("Error: Unknown channel", "channel"),
        "no-phone": ("Error: Missing phone number in request", "to"),
        "big-media": ("Error: Invalid media", "media"),
        "long-fields": ("Error: Invalid callback data", "callbackData"),
        "long-string": ("Error: Invalid callback data", "callbackData"),
        "good-2": ("Success: Message pending", None),
    }
    by_key = {d.idempotency_key: q for d, q in zip(drafts, queued, strict=True)}
    assert "fax" in by_key["fax"].detail
    assert "4001 characters" in by_key["long-string"].detail
    assert "2000000 bytes" in by_key["big-media"].detail
    # The stored trail names the field too (messages show).
    [event] = await rig.outbox.events(by_key["no-phone"].message_id)
    assert (event["kind"], event["detail"]["field"]) == ("invalid", "to")
    done = await rig.sender.run_once()
    assert (done.claimed, done.accepted, done.rejected) == (2, 2, 0)
    assert await rig.sandbox.store.count() == 2
    assert await rig.outbox.counts() == {"accepted": 2, "invalid": 5}
    assert (await rig.sender.run_once()).claimed == 0  # the invalid ones are never sent


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("PEOPLESYNC_PROVIDER_API_KEY", "k-1")
    runner = CliRunner()
    added = runner.invoke(app, ["providers", "add", "main", "--base-url", "https://x.test"])
    assert added.exit_code == 0, added.output  # sends to an unknown account are refused first
    return runner


@pytest.mark.parametrize(
    ("args", "status", "field"),
    [
        (
            ["--channel", "fax", "--to", "385911234502", "--text", "hi"],
            "Unknown channel",
            "channel",
        ),
        (["--channel", "sms", "--to", "", "--text", "hi"], "Missing phone number", "to"),
        (
            [
                "--channel",
                "mms",
                "--to",
                "14155550100",
                "--request",
                json.dumps({"media": BIG_MEDIA}),
            ],
            "Invalid media",
            "media",
        ),
        (
            [
                "--channel",
                "sms",
                "--to",
                "1415555",
                "--text",
                "hi",
                "--request",
                json.dumps({"callbackData": {"n": "z" * 4001}}),
            ],
            "Invalid callback data",
            "callbackData",
        ),
    ],
)
def test_the_cli_names_the_field_and_exits_1(
    runner: CliRunner, args: list[str], status: str, field: str
) -> None:
    result = runner.invoke(app, ["messages", "send", *args, "--json"])
    assert result.exit_code == 1, result.output
    shown = json.loads(result.stdout)
    assert status in shown["messageStatus"] and shown["field"] == field
    human = runner.invoke(app, ["messages", "send", *args, "--key", "again"])
    assert human.exit_code == 1 and f"({field}:" in human.output
