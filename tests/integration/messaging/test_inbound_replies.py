"""Replies from handsets end to end: sandbox provider -> peoplesync's MO webhook -> stored
(Inbound Messages columns) -> the person's timeline and the conversation's trail."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.tables import inbound_messages
from peoplesync.people.model import PersonInput
from peoplesync.sandbox.provider.reports import retry_delay
from tests.infobip_contract import webhook_errors
from tests.integration.messaging.conftest import KEY, PUBLIC, Rig, draft

ANN = "385911234502"
OURS = "385981000000"


async def _mo_url(rig: Rig) -> str:
    url = hook_urls(PUBLIC, rig.box, "main").inbound_url
    assert url is not None
    answer = await rig.control.put("/control/mo-url", json={"url": url})
    assert answer.status_code == 200 and answer.json() == {"configured": True}
    return url


async def _rows(rig: Rig) -> list[dict[str, Any]]:
    async with rig.store.engine.connect() as conn:
        rows = await conn.execute(sa.select(inbound_messages).order_by(inbound_messages.c.text))
        return [dict(row._mapping) for row in rows]


async def _ann(rig: Rig) -> str:
    created = await rig.store.upsert_persons(
        [PersonInput(emails=["ann@example.com"], phones=[f"+{ANN}"])], origin="t"
    )
    assert created.ids[0] is not None
    return created.ids[0]


async def test_a_reply_is_stored_linked_and_on_the_timeline(rig: Rig) -> None:
    ann = await _ann(rig)
    await _mo_url(rig)
    [first, second] = await rig.outbox.enqueue(
        [
            draft("one", Channel.SMS, ANN, **{"from": OURS}),
            draft("two", Channel.SMS, ANN, **{"from": OURS}),
        ]
    )
    assert (await rig.sender.run_once()).accepted == 2
    answer = await rig.control.post(
        "/control/inbound", json={"from": f"+{ANN}", "to": OURS, "text": "QUIZ Paris"}
    )
    assert answer.status_code == 200, answer.text
    assert await rig.dispatch() == 1
    [posted] = [d for d in rig.sandbox.reports.delivered if d["kind"] == "inbound"]
    # What the sandbox posts is Infobip's inbound SMS webhook, as its OpenAPI document says.
    assert (
        webhook_errors(
            "infobip-sms-openapi.json", "receive-inbound-sms-messages", posted["payload"]
        )
        == []
    )
    [row] = await _rows(rig)
    assert {k: row[k] for k in ("channel", "sender", "recipient", "text", "clean_text")} == {
        "channel": "sms",
        "sender": ANN,
        "recipient": OURS,
        "text": "QUIZ Paris",
        "clean_text": "Paris",
    }
    assert (row["keyword"], row["message_count"], row["currency"]) == ("QUIZ", 1, "EUR")
    assert row["message_id"] == answer.json()["messageId"]
    assert row["person_id"] == ann
    # Both messages were sent at the same moment: the conversation is the later id's.
    last = max(first.message_id, second.message_id)
    assert row["in_reply_to"] == last
    trail = await rig.outbox.events(last)
    assert trail[-1]["kind"] == "replied" and trail[-1]["detail"]["text"] == "QUIZ Paris"
    timeline = await rig.store.timeline(ann)
    replied = [e for e in timeline if e.kind == "message_replied"]
    assert [(e.source, e.data["message_id"], e.data["reply_id"]) for e in replied] == [
        ("messaging", last, row["id"])
    ]
    # The provider posts it again (it missed our answer): nothing more is stored.
    again = await rig.hooks.post(posted["url"], json=posted["payload"])
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert len(await _rows(rig)) == 1
    assert len(await rig.store.timeline(ann)) == len(timeline)


async def test_a_reply_from_a_stranger_is_kept_without_person_or_conversation(
    rig: Rig,
) -> None:
    await _mo_url(rig)
    await rig.control.post(
        "/control/inbound", json={"from": "14155550123", "to": OURS, "text": "who is this?"}
    )
    await rig.dispatch()
    [row] = await _rows(rig)
    assert (row["person_id"], row["in_reply_to"], row["keyword"]) == (None, None, None)
    assert row["clean_text"] == "who is this?"


async def test_a_failing_receiver_gets_the_report_retry_schedule(rig: Rig) -> None:
    await _mo_url(rig)
    rig.flaky.fail_next = 2
    await rig.control.post("/control/inbound", json={"from": ANN, "to": OURS, "text": "yes"})
    assert await rig.dispatch() == 0  # 503
    rig.clock.now += retry_delay(1, 1.0) - 1
    assert await rig.dispatch() == 0  # not due yet: 1 min + 1 min x 1^2
    rig.clock.now += 1
    assert await rig.dispatch() == 0  # 503 again
    rig.clock.now += retry_delay(2, 1.0)
    assert await rig.dispatch() == 1
    assert [r["text"] for r in await _rows(rig)] == ["yes"]


async def test_an_unauthenticated_reply_gets_401_and_is_logged_without_the_token(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    url = hook_urls(PUBLIC, rig.box, "main").inbound_url or ""
    token = url.split("token=")[1]
    body = {"results": [{"messageId": "m", "from": ANN, "to": OURS, "text": "hi"}]}
    with caplog.at_level(logging.WARNING):
        wrong = await rig.hooks.post(url.replace(token, "f" * 64), json=body)
        missing = await rig.hooks.post(url.split("?")[0], json=body)
    assert [wrong.status_code, missing.status_code] == [401, 401]
    assert "inbound report for account 'main' refused" in caplog.text
    assert token not in caplog.text and "f" * 64 not in caplog.text
    assert await _rows(rig) == []


async def test_a_bad_entry_is_named_and_the_rest_stored(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    url = hook_urls(PUBLIC, rig.box, "main").inbound_url or ""
    body = {
        "results": [
            {"messageId": "bad", "to": OURS, "text": "no sender"},
            {"messageId": "good", "from": ANN, "to": OURS, "text": "fine"},
            {"messageId": "odd", "from": ANN, "to": OURS, "receivedAt": "yesterday", "text": "x"},
        ]
    }
    with caplog.at_level(logging.WARNING):
        answer = await rig.hooks.post(url, json=body)
    assert answer.status_code == 200
    assert answer.json()["stored"] == 1
    errors = answer.json()["errors"]
    assert errors[0].startswith("record results[0] (message bad), field 'from': is missing")
    assert errors[1].startswith("record results[2] (message odd), field 'receivedAt'")
    assert "results[0] (message bad)" in caplog.text
    assert [r["message_id"] for r in await _rows(rig)] == ["good"]


async def test_the_handset_page_sends_a_reply(rig: Rig) -> None:
    await _mo_url(rig)
    await rig.outbox.enqueue([draft("one", Channel.SMS, ANN, **{"from": OURS})])
    await rig.sender.run_once()
    refused = await rig.control.get("/handset", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic")
    basic = {"Authorization": "Basic " + base64.b64encode(f"me:{KEY}".encode()).decode()}
    page = await rig.control.get("/handset", headers=basic)
    assert page.status_code == 200
    assert f'<option value="{ANN}">' in page.text and f'value="{OURS}"' in page.text
    sent = await rig.control.post(
        "/handset",
        headers=basic | {"Content-Type": "application/x-www-form-urlencoded"},
        content=f"from={ANN}&to={OURS}&text=STOP".encode(),
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/handset?sent=")
    elsewhere = await rig.control.post(
        "/handset",
        headers=basic
        | {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.test"},
        content=f"from={ANN}&to={OURS}&text=hijacked".encode(),
    )
    assert elsewhere.status_code == 403  # another site's form, even with the browser's key
    blank = await rig.control.post(
        "/handset",
        headers=basic | {"Content-Type": "application/x-www-form-urlencoded"},
        content=f"from={ANN}&to={OURS}&text=".encode(),
    )
    assert blank.status_code == 200 and "text: must not be blank" in blank.text
    await rig.dispatch()
    [row] = await _rows(rig)
    assert (row["keyword"], row["clean_text"], row["in_reply_to"] is not None) == ("STOP", "", True)
    shown = await rig.control.get("/handset", headers=basic)
    assert "STOP <small>(posted)</small>" in shown.text


async def test_the_control_endpoint_checks_its_input(rig: Rig) -> None:
    no_url = await rig.control.post("/control/inbound", json={"from": ANN, "to": OURS, "text": "x"})
    assert no_url.status_code == 400
    assert no_url.json()["violations"][0]["property"] == "moUrl"
    await _mo_url(rig)
    bad = await rig.control.post("/control/inbound", json={"from": "ann", "text": ""})
    assert {v["property"] for v in bad.json()["violations"]} == {"from", "to", "text"}
    anonymous = await rig.control.post(
        "/control/inbound",
        json={"from": ANN, "to": OURS, "text": "x"},
        headers={"Authorization": "App wrong-key"},
    )
    assert anonymous.status_code == 401
    await rig.dispatch()
    assert await _rows(rig) == []
