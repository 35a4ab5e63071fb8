"""Reports end to end: the sandbox provider posts to peoplesync's web app, the outbox follows
(the rig is in conftest.py)."""

from __future__ import annotations

import logging

import pytest

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.people.model import PersonInput
from peoplesync.web.person_view import details_json, person_details
from tests.integration.messaging.conftest import PUBLIC, Rig, draft


async def test_reports_reach_the_outbox_once(rig: Rig) -> None:
    suffixes = {"ok": "01", "lost": "91", "late": "92", "blocked": "93", "refused": "00"}
    drafts = [draft(key, Channel.SMS, f"3859112345{s}") for key, s in suffixes.items()]
    drafts.append(draft("viber", Channel.VIBER, "385911234502"))
    ids = {
        key: e.message_id
        for key, e in zip([*suffixes, "viber"], await rig.outbox.enqueue(drafts), strict=True)
    }
    done = await rig.sender.run_once()
    assert (done.accepted, done.rejected) == (5, 1)
    rig.clock.now += 1.5  # delivery reports are due
    assert await rig.dispatch() == 6
    rig.clock.now += 2.5  # and the Viber message's seen report
    assert await rig.dispatch() == 1

    async def state(key: str) -> tuple[str, str | None]:
        message = await rig.outbox.get(ids[key])
        assert message is not None
        return message.state, message.provider_status

    assert [await state(key) for key in ids] == [
        ("delivered", "DELIVERED_TO_HANDSET"),
        ("undeliverable", "UNDELIVERABLE_NOT_DELIVERED"),
        ("expired", "EXPIRED_EXPIRED"),
        ("rejected", "REJECTED_NETWORK"),
        ("rejected", "REJECTED_DESTINATION"),
        ("delivered", "DELIVERED_TO_HANDSET"),
    ]
    lost = await rig.outbox.get(ids["lost"])
    assert lost is not None and lost.detail.startswith("EC_UNKNOWN_SUBSCRIBER")
    viber_events = await rig.outbox.events(ids["viber"])
    assert [e["kind"] for e in viber_events] == ["queued", "sent", "delivered", "seen"]
    ok_events = await rig.outbox.events(ids["ok"])
    assert ok_events[-1]["detail"]["price"] == 0.01
    # The provider retries a report it believes we missed: nothing more happens.
    first = rig.sandbox.reports.delivered[0]
    again = await rig.hooks.post(first["url"], json=first["payload"])
    repeated = len(first["payload"]["results"])  # reports due together go in one post
    assert again.status_code == 200 and again.json()["duplicates"] == repeated > 1
    events_before = {key: await rig.outbox.events(i) for key, i in ids.items()}
    await rig.hooks.post(first["url"], json=first["payload"])
    assert {key: await rig.outbox.events(i) for key, i in ids.items()} == events_before


async def test_a_wrong_or_missing_token_gets_401_and_is_logged_without_it(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"results": []}
    good = hook_urls(PUBLIC, rig.box, "main").delivery_url or ""
    token = good.split("token=")[1]
    other = hook_urls(PUBLIC, rig.box, "other").delivery_url or ""
    with caplog.at_level(logging.WARNING):
        wrong = await rig.hooks.post(good.replace(token, "0" * 64), json=body)
        missing = await rig.hooks.post(good.split("?")[0], json=body)
        crossed = await rig.hooks.post(
            f"{PUBLIC}/hooks/messaging/main/delivery?token={other.split('token=')[1]}", json=body
        )
    assert [r.status_code for r in (wrong, missing, crossed)] == [401, 401, 401]
    assert "messages webhooks" in wrong.json()["hint"]
    assert "refused: wrong token" in caplog.text and "refused: missing token" in caplog.text
    assert token not in caplog.text and "0" * 64 not in caplog.text
    ok = await rig.hooks.post(good, json=body)
    assert ok.status_code == 200 and ok.json()["applied"] == 0


async def test_a_bad_entry_is_named_and_the_rest_applied(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    [queued] = await rig.outbox.enqueue([draft("one", Channel.SMS, "385911234567")])
    await rig.sender.run_once()
    good = {
        "messageId": queued.message_id,
        "status": {"groupName": "DELIVERED", "name": "DELIVERED_TO_HANDSET"},
        "doneAt": "2027-01-15T08:00:00.000+0000",
    }
    body = {"results": [{"messageId": "x", "status": "DELIVERED"}, good]}
    url = hook_urls(PUBLIC, rig.box, "main").delivery_url or ""
    with caplog.at_level(logging.WARNING):
        answer = await rig.hooks.post(url, json=body)
    assert answer.status_code == 200
    assert answer.json()["applied"] == 1
    assert answer.json()["errors"] == [
        "record results[0] (message x), field 'status': is not an object (how to fix: the "
        "provider sent a report peoplesync cannot read; check the provider's webhook format)"
    ]
    assert "results[0] (message x)" in caplog.text
    message = await rig.outbox.get(queued.message_id)
    assert message is not None and message.state == "delivered"
    not_json = await rig.hooks.post(url, content=b"{nope")
    assert not_json.status_code == 400


async def test_the_persons_timeline_shows_sent_delivered_and_seen(rig: Rig) -> None:
    created = await rig.store.upsert_persons(
        [PersonInput(emails=["ann@example.com"], phones=["+385 91 123 4502"])], origin="t"
    )
    ann = created.ids[0]
    assert ann is not None
    [viber, other] = await rig.outbox.enqueue(
        [
            draft("v", Channel.VIBER, "+385911234502"),
            draft("x", Channel.SMS, "385911234503"),  # nobody has this number
        ]
    )
    await rig.sender.run_once()
    rig.clock.now += 1.5
    await rig.dispatch()
    rig.clock.now += 2.5
    await rig.dispatch()
    timeline = await rig.store.timeline(ann)
    assert [(e.kind, e.source, e.data["message_id"]) for e in reversed(timeline)] == [
        ("message_sent", "messaging", viber.message_id),
        ("message_delivered", "messaging", viber.message_id),
        ("message_seen", "messaging", viber.message_id),
    ]
    assert all(e.data["message_id"] != other.message_id for e in timeline)
    shown = details_json(await person_details(rig.store, ann))
    assert [e["kind"] for e in shown["timeline"]][:3] == [
        "message_seen",
        "message_delivered",
        "message_sent",
    ]
    # A retried report adds nothing to the timeline either.
    first = rig.sandbox.reports.delivered[0]
    await rig.hooks.post(first["url"], json=first["payload"])
    assert len(await rig.store.timeline(ann)) == len(timeline)
