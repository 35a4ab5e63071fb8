"""``messages send --track-links``: short links on a SQLite data directory; ``messages show``
lists them with their clicks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.settings import Settings
from peoplesync.wiring import messaging

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("PEOPLESYNC_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PEOPLESYNC_PROVIDER_API_KEY", "k-1")
    runner = CliRunner()
    added = runner.invoke(app, ["providers", "add", "main", "--base-url", "https://p.test"])
    assert added.exit_code == 0, added.output
    return runner


SEND = ["messages", "send", "--channel", "sms", "--to", "+385911234567"]


def _send(runner: CliRunner, *options: str) -> dict[str, object]:
    text = ["--text", "Sale https://shop.example.com/x?id=1."]
    result = runner.invoke(app, [*SEND, *text, "--json", *options])
    assert result.exit_code == 0, result.output
    sent: dict[str, object] = json.loads(result.stdout)
    return sent


def _show(runner: CliRunner, message_id: object) -> dict[str, object]:
    result = runner.invoke(app, ["messages", "show", str(message_id), "--json"])
    assert result.exit_code == 0, result.output
    shown: dict[str, object] = json.loads(result.stdout)
    return shown


async def _click(code: str) -> str | None:
    async with messaging(Settings()) as services:
        return await services.links.follow(code, IPHONE)


def test_track_links_shortens_on_the_public_url_and_show_lists_links_and_clicks(
    runner: CliRunner,
) -> None:
    sent = _send(runner, "--track-links", "--public-url", "https://people.example.com")
    assert sent["messageStatus"] == "Success: Message pending"
    shown = _show(runner, sent["message_id"])
    [link] = shown["links"]  # type: ignore[misc]
    assert link["url"] == "https://shop.example.com/x?id=1"
    assert link["short_url"].startswith("https://people.example.com/")
    assert link["clicks"] == 0 and shown["clicks"] == []
    assert asyncio.run(_click(link["short_url"].rsplit("/", 1)[1])) == link["url"]
    shown = _show(runner, sent["message_id"])
    [click] = shown["clicks"]  # type: ignore[misc]
    assert (click["notificationType"], click["url"], click["deviceType"], click["os"]) == (
        "CLICKED",
        "https://shop.example.com/x?id=1",
        "mobile",
        "iOS 17.1",
    )
    assert [e["kind"] for e in shown["events"]] == ["queued", "clicked"]  # type: ignore[attr-defined]


def test_link_domain_and_remove_https(runner: CliRunner) -> None:
    public = ("--public-url", "https://people.example.com")
    sent = _send(
        runner, "--track-links", "--remove-https", "--link-domain", "go.example.org", *public
    )
    [link] = _show(runner, sent["message_id"])["links"]  # type: ignore[misc]
    assert link["short_url"].startswith("go.example.org/")


def test_without_a_public_url_the_provider_is_asked_to_shorten(runner: CliRunner) -> None:
    result = runner.invoke(app, [*SEND, "--text", "https://a.example", "--track-links"])
    assert result.exit_code == 0, result.output
    assert "no public URL" in result.output
    sent = _send(runner, "--track-links")
    shown = _show(runner, sent["message_id"])
    assert shown["links"] == []


def test_without_track_links_nothing_is_shortened(runner: CliRunner) -> None:
    sent = _send(runner, "--public-url", "https://people.example.com")
    assert _show(runner, sent["message_id"])["links"] == []


def test_the_text_is_counted_with_its_short_links(runner: CliRunner) -> None:
    # 37 SMS parts as written; 25 once the 1,818-character URL is a 35-character link.
    text = "x" * 3700 + " https://a.example/" + "p" * 1800
    refused = runner.invoke(app, [*SEND, "--text", text, "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["messageStatus"] == "Error: Invalid text length"
    public = ["--public-url", "https://people.example.com", "--track-links", "--json"]
    sent = runner.invoke(app, [*SEND, "--text", text, *public])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["messageStatus"] == "Success: Message pending"
