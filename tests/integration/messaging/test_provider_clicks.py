"""The provider's own short links end to end: peoplesync (no public URL, so no links of its
own) asks the sandbox provider to shorten and track; the sandbox rewrites the body, redirects
its short link, and posts click reports to the account's click URL; peoplesync stores them
as Unified URL Tracking rows, ``clicked`` events and timeline entries, once per click."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.links.tables import link_clicks
from peoplesync.people.model import PersonInput
from peoplesync.sandbox.provider.reports import retry_delay
from tests.infobip_contract import webhook_errors
from tests.integration.messaging.conftest import PUBLIC, Rig, draft

ANN = "385911234501"
OURS = "385981000000"
SITE = "https://shop.example.com/sale?id=7"


async def _ann(rig: Rig) -> str:
    created = await rig.store.upsert_persons(
        [PersonInput(emails=["ann@example.com"], phones=[f"+{ANN}"])], origin="t"
    )
    assert created.ids[0] is not None
    return created.ids[0]


async def _rows(rig: Rig) -> list[dict[str, Any]]:
    async with rig.store.engine.connect() as conn:
        rows = await conn.execute(sa.select(link_clicks).order_by(link_clicks.c.id))
        return [dict(row._mapping) for row in rows]


async def _sent_text(rig: Rig, message_id: str) -> str:
    stored = await rig.sandbox.store.recent(10)
    [body] = [m.body for m in stored if m.message_id == message_id]
    text: str = body["content"]["text"]
    return text


async def test_a_provider_click_report_lands_once_on_the_timeline(rig: Rig) -> None:
    ann = await _ann(rig)
    [queued] = await rig.outbox.enqueue(
        [draft("one", Channel.SMS, ANN, text=f"Sale today: {SITE} !", **{"from": OURS})]
    )
    assert (await rig.sender.run_once()).accepted == 1
    text = await _sent_text(rig, queued.message_id)
    assert SITE not in text and "https://provider.test/s/" in text  # the provider's link
    short = text.split("Sale today: ")[1].split(" ")[0]
    # A recipient's phone opens the short link: a redirect to the long URL, and a report.
    phone = "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 Mobile Safari/537.36"
    checked = await rig.control.head(short)
    assert checked.status_code == 302  # a link check: no click
    opened = await rig.control.get(short, headers={"User-Agent": phone})
    assert (opened.status_code, opened.headers["location"]) == (302, SITE)
    rig.clock.now += 0.5  # before the delivery report: only the click is due
    assert await rig.dispatch() == 1
    [posted] = [d for d in rig.sandbox.reports.delivered if d["kind"] == "click"]
    assert posted["url"] == hook_urls(PUBLIC, rig.box, "main").click_url
    # The sandbox posts Infobip's URL tracking webhook, as its OpenAPI document says.
    payload = posted["payload"]
    assert (
        webhook_errors("infobip-sms-openapi.json", "receive-sms-tracking-notification", payload)
        == []
    )
    assert (payload["notificationType"], payload["messageId"], payload["url"]) == (
        "CLICKED",
        queued.message_id,
        SITE,
    )
    [row] = await _rows(rig)
    assert {k: row[k] for k in ("code", "message_id", "recipient", "url", "channel")} == {
        "code": None,
        "message_id": queued.message_id,
        "recipient": ANN,
        "url": SITE,
        "channel": "sms",
    }
    assert (row["device_type"], row["os"], row["device_name"]) == (
        "mobile",
        "Android 14",
        "Samsung",
    )
    events = await rig.outbox.events(queued.message_id)
    assert events[-1]["kind"] == "clicked" and events[-1]["detail"]["url"] == SITE
    clicked = [e for e in await rig.store.timeline(ann) if e.kind == "message_clicked"]
    assert [e.data["message_id"] for e in clicked] == [queued.message_id]
    # The provider posts the same report again (it missed our answer): counted once.
    again = await rig.hooks.post(posted["url"], json=payload)
    assert again.status_code == 200, again.text
    assert again.json() | {"errors": []} == {
        "stored": 0,
        "duplicates": 1,
        "unknown": 0,
        "rejected": 0,
        "rejected_message_ids": [],
        "errors": [],
    }
    assert len(await _rows(rig)) == 1
    assert len(await rig.outbox.events(queued.message_id)) == len(events)
    assert len([e for e in await rig.store.timeline(ann) if e.kind == "message_clicked"]) == 1


async def test_a_failing_click_receiver_is_retried_and_counted_once(rig: Rig) -> None:
    await _ann(rig)
    [queued] = await rig.outbox.enqueue(
        [draft("one", Channel.SMS, ANN, text=f"See {SITE}", **{"from": OURS})]
    )
    await rig.sender.run_once()
    tapped = await rig.control.post(
        "/control/click", json={"messageId": queued.message_id, "position": 0}
    )
    assert tapped.status_code == 200 and tapped.json()["url"] == SITE
    rig.flaky.fail_next = 1
    assert await rig.dispatch() == 0  # 503: not posted
    assert await _rows(rig) == []
    rig.clock.now += retry_delay(1, 1.0) - 2
    rig.flaky.fail_next = 0
    deliveries = len(rig.sandbox.reports.delivered)
    await rig.dispatch()  # the delivery report only: the click waits for its retry time
    assert [d["kind"] for d in rig.sandbox.reports.delivered[deliveries:]] == ["report"]
    rig.clock.now += 2
    assert await rig.dispatch() == 1
    [row] = await _rows(rig)
    assert (row["message_id"], row["device_type"], row["device_name"]) == (
        queued.message_id,
        "mobile",
        "Apple",
    )


async def test_whatsapp_template_placeholders_get_provider_links(rig: Rig) -> None:
    [queued] = await rig.outbox.enqueue(
        [
            draft(
                "wa",
                Channel.WHATSAPP,
                ANN,
                placeholders=["Ann", SITE],
                shortenUrl=True,
                trackClicks=True,
            )
        ]
    )
    assert (await rig.sender.run_once()).accepted == 1
    stored = await rig.sandbox.store.recent(5)
    [body] = [m.body for m in stored if m.message_id == queued.message_id]
    placeholders = body["content"]["templateData"]["body"]["placeholders"]
    assert placeholders[0] == "Ann" and placeholders[1].startswith("https://provider.test/s/")
    tapped = await rig.control.post(
        "/control/click", json={"messageId": queued.message_id, "position": 0}
    )
    assert tapped.json()["reported"] is True
    await rig.dispatch()
    [row] = await _rows(rig)
    assert (row["channel"], row["url"]) == ("whatsapp", SITE)


async def test_a_click_report_without_the_token_gets_401_and_is_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    good = hook_urls(PUBLIC, rig.box, "main").click_url or ""
    payload = {
        "notificationType": "CLICKED",
        "messageId": "m1",
        "url": SITE,
        "sendDateTime": 1_800_000_000_000,
    }
    refused = await rig.hooks.post(good.split("?")[0] + "?token=nope", json=payload)
    assert refused.status_code == 401
    assert "click report for account 'main' refused: wrong token" in caplog.text
    assert "nope" not in caplog.text
    assert await _rows(rig) == []
    # Bad entries are named; a good one beside them for a message this account never sent
    # is rejected by id, not stored.
    mixed = await rig.hooks.post(good, json=[payload, {"messageId": "m2", "url": SITE}])
    assert mixed.status_code == 200
    assert mixed.json()["stored"] == 0 and mixed.json()["unknown"] == 0
    assert (mixed.json()["rejected"], mixed.json()["rejected_message_ids"]) == (1, ["m1"])
    assert await _rows(rig) == []
    [error] = mixed.json()["errors"]
    assert error.startswith(
        "record click report 1 (message m2), field 'sendDateTime': is not a time in epoch"
    )


async def test_the_handset_links_page_taps_a_link(rig: Rig) -> None:
    [queued] = await rig.outbox.enqueue(
        [draft("one", Channel.SMS, ANN, text=f"See {SITE}", **{"from": OURS})]
    )
    await rig.sender.run_once()
    page = await rig.control.get("/handset/links")
    assert page.status_code == 200 and SITE in page.text and "Click" in page.text
    foreign = await rig.control.post(
        "/handset/links",
        data={"messageId": queued.message_id, "position": "0"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    tapped = await rig.control.post(
        "/handset/links", data={"messageId": queued.message_id, "position": "0"}
    )
    assert tapped.status_code == 303 and "clicked=" in tapped.headers["location"]
    assert "clicked=none" not in tapped.headers["location"]
    unknown = await rig.control.post("/control/click", json={"messageId": "nope"})
    assert unknown.status_code == 400 and "messageId" in unknown.text
    await rig.dispatch()
    [row] = await _rows(rig)
    assert row["message_id"] == queued.message_id
    assert (await rig.control.get("/s/zzzzzzz")).status_code == 404


async def test_another_accounts_token_cannot_report_on_this_accounts_messages(rig: Rig) -> None:
    """Click, delivery and seen reports for a message sent through ``main``, posted with the
    token of another account: each is rejected by id and nothing is stored or changed."""
    await _ann(rig)
    [queued] = await rig.outbox.enqueue(
        [draft("one", Channel.SMS, ANN, text=f"See {SITE}", **{"from": OURS})]
    )
    await rig.sender.run_once()
    before = await rig.outbox.events(queued.message_id)
    other = hook_urls(PUBLIC, rig.box, "other")
    click = {
        "notificationType": "CLICKED",
        "messageId": queued.message_id,
        "url": SITE,
        "sendDateTime": 1_800_000_000_000,
    }
    clicked = await rig.hooks.post(other.click_url or "", json=click)
    assert clicked.status_code == 200, clicked.text
    assert clicked.json()["stored"] == 0
    assert clicked.json()["rejected_message_ids"] == [queued.message_id]
    report = {
        "messageId": queued.message_id,
        "to": ANN,
        "sentAt": "2026-12-05T10:00:00.000+0000",
        "doneAt": "2026-12-05T10:00:01.000+0000",
        "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR"},
    }
    delivered = await rig.hooks.post(other.delivery_url, json={"results": [report]})
    assert delivered.status_code == 200, delivered.text
    assert (delivered.json()["applied"], delivered.json()["rejected"]) == (0, 1)
    assert delivered.json()["rejected_message_ids"] == [queued.message_id]
    seen = {"messageId": queued.message_id, "to": ANN, "seenAt": "2026-12-05T10:01:00.000+0000"}
    looked = await rig.hooks.post(other.seen_url, json={"results": [seen]})
    assert looked.status_code == 200, looked.text
    assert (looked.json()["applied"], looked.json()["rejected"]) == (0, 1)
    assert await _rows(rig) == []
    assert await rig.outbox.events(queued.message_id) == before
    # the account's own token still reports on it
    mine = hook_urls(PUBLIC, rig.box, "main")
    accepted = await rig.hooks.post(mine.delivery_url, json={"results": [report]})
    assert (accepted.json()["applied"], accepted.json()["rejected"]) == (1, 0)
