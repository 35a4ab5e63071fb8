"""The sandbox provider's shortener and click payload, and peoplesync's reading of it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest

from peoplesync.messaging.click_reports import device_type, parse_click_reports
from peoplesync.sandbox.provider.clicks import (
    HANDSET_AGENT,
    click_payload,
    shorten,
    shorten_content,
    url_options,
)
from peoplesync.sandbox.provider.store import SandboxClick
from tests.infobip_contract import webhook_errors


def _codes() -> Callable[[], str]:
    numbers = count(1)
    return lambda: f"c{next(numbers)}"


def test_urls_are_shortened_without_their_sentence_punctuation() -> None:
    text, links = shorten(
        "See https://a.example/x?y=1. Or (http://b.example/z)!", "https://p.test", 0, _codes()
    )
    assert text == "See https://p.test/s/c1. Or (https://p.test/s/c2)!"
    assert links == [(0, "https://a.example/x?y=1", "c1"), (1, "http://b.example/z", "c2")]


def test_whatsapp_placeholders_are_shortened_and_numbered_across_them() -> None:
    message = {
        "content": {"templateData": {"body": {"placeholders": ["Ann", "https://a.example"]}}}
    }
    short, links = shorten_content("whatsapp", message, "p.test")
    assert short["content"]["templateData"]["body"]["placeholders"][1].startswith("p.test/s/")
    assert [(at, url) for at, url, _ in links] == [(0, "https://a.example")]
    assert message["content"]["templateData"]["body"]["placeholders"][1] == "https://a.example"


def test_url_options_take_the_documented_defaults() -> None:
    assert url_options(None) is None
    defaults = url_options({})
    assert defaults is not None and (defaults.shorten, defaults.track) == (True, True)
    off = url_options({"shortenUrl": False, "trackClicks": False, "trackingUrl": "https://h"})
    assert off is not None and (off.shorten, off.track, off.tracking_url) == (
        False,
        False,
        "https://h",
    )


@pytest.mark.parametrize(
    ("document", "webhook"),
    [
        ("infobip-sms-openapi.json", "receive-sms-tracking-notification"),
        ("infobip-mms-openapi.json", "receive-mms-tracking-notification"),
    ],
)
def test_the_click_payload_is_infobips_and_peoplesync_reads_it(document: str, webhook: str) -> None:
    click = SandboxClick(
        1,
        "m1",
        "https://a.example",
        1_800_000_000.25,
        HANDSET_AGENT,
        "https://h",
        0,
        "385911234567",
        "b1",
        '{"k":"v"}',
    )
    payload = click_payload(click, click.callback_data, click.bulk_id)
    assert webhook_errors(document, webhook, payload) == []
    parsed = parse_click_reports(payload)
    assert parsed.errors == []
    [report] = parsed.reports
    assert (report.message_id, report.url, report.recipient) == (
        "m1",
        "https://a.example",
        "385911234567",
    )
    assert report.clicked_at.timestamp() == 1_800_000_000.25
    assert (report.device.device_type, report.device.os, report.device.device_name) == (
        "mobile",
        "iOS 17",
        "Apple",
    )
    # The same click read again has the same key; another time, another key.
    assert parse_click_reports(payload).reports[0].key == report.key
    later = parse_click_reports(payload | {"sendDateTime": payload["sendDateTime"] + 1})
    assert later.reports[0].key != report.key


def test_device_types_and_bad_entries() -> None:
    assert [device_type(t) for t in ("Phone", "TABLET", "Desktop", "Bot", "Fridge", None)] == [
        "mobile",
        "tablet",
        "desktop",
        "bot",
        "unknown",
        "unknown",
    ]
    parsed = parse_click_reports(
        {"results": [{"messageId": "m", "url": "u", "sendDateTime": "x"}, 7]}
    )
    assert [str(e).split(":")[0] for e in parsed.errors] == [
        "record click report 0 (message m), field 'sendDateTime'",
        "record click report 1",
    ]
    assert parse_click_reports("nope").errors
