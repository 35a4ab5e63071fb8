"""Reports applied to the outbox on SQLite and PostgreSQL: states, events, retries, unknowns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message import Outcome, SendResult
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.report_store import ReportStore
from peoplesync.messaging.reports import parse_delivery_reports, parse_seen_reports
from tests.unit.messaging.test_channel_validation import VALID


def _report(message_id: str, group: str, name: str, error: str = "NO_ERROR") -> dict[str, Any]:
    return {
        "messageId": message_id,
        "to": "385911234567",
        "sentAt": "2026-01-01T10:00:00.000+0000",
        "doneAt": "2026-01-01T10:00:07.250+0000",
        "price": {"pricePerMessage": 0.01, "currency": "EUR"},
        "status": {"groupName": group, "name": name, "description": f"{name} text"},
        "error": {"name": error, "description": f"{error} text", "permanent": error != "NO_ERROR"},
        "messageCount": 1,
    }


async def _accepted(outbox: Outbox, count: int) -> list[str]:
    drafts = [
        MessageDraft(f"k{n}", "main", "sms", VALID[Channel.SMS] | {"to": f"38591000{n:04d}"})
        for n in range(count)
    ]
    ids = [e.message_id for e in await outbox.enqueue(drafts)]
    claimed = await outbox.claim(count, timedelta(seconds=60))
    await outbox.record(
        [SendResult(i, Outcome.ACCEPTED, "PENDING", "PENDING_ACCEPTED") for i in ids],
        claimed_by=claimed[0].claimed_by or "",
    )
    return ids


async def test_delivery_reports_set_states_and_events_once(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    reports = ReportStore(engine, clock)
    ids = await _accepted(outbox, 5)
    body = {
        "results": [
            _report(ids[0], "DELIVERED", "DELIVERED_TO_HANDSET"),
            _report(
                ids[1], "UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED", "EC_UNKNOWN_SUBSCRIBER"
            ),
            _report(ids[2], "EXPIRED", "EXPIRED_EXPIRED", "EC_ABSENT_SUBSCRIBER"),
            _report(ids[3], "REJECTED", "REJECTED_NETWORK", "EC_CONTENT_BLOCKED"),
            _report(ids[4], "PENDING", "PENDING_ENROUTE"),
            _report("never-sent", "DELIVERED", "DELIVERED_TO_HANDSET"),
        ]
    }
    parsed = parse_delivery_reports(body)
    done = await reports.apply_delivery(parsed.reports)
    assert (done.applied, done.unknown, done.pending, done.duplicates) == (4, 1, 1, 0)
    states = {i: m.state for i in ids if (m := await outbox.get(i)) is not None}
    assert [states[i] for i in ids] == [
        "delivered",
        "undeliverable",
        "expired",
        "rejected",
        "accepted",
    ]
    lost = await outbox.get(ids[1])
    assert lost is not None and lost.provider_status == "UNDELIVERABLE_NOT_DELIVERED"
    assert lost.detail == "EC_UNKNOWN_SUBSCRIBER: EC_UNKNOWN_SUBSCRIBER text"
    delivered = await outbox.get(ids[0])
    assert delivered is not None and delivered.detail == "DELIVERED_TO_HANDSET text"
    events = await outbox.events(ids[0])
    assert [e["kind"] for e in events] == ["queued", "sent", "delivered"]
    assert events[-1]["at"].startswith("2026-01-01T10:00:07.250")
    assert events[-1]["detail"]["price"] == 0.01 and events[-1]["detail"]["currency"] == "EUR"
    # The provider posts the same payload again: nothing more happens.
    again = await reports.apply_delivery(parse_delivery_reports(body).reports)
    assert (again.applied, again.duplicates, again.unknown) == (0, 4, 1)
    assert [e["kind"] for e in await outbox.events(ids[0])] == ["queued", "sent", "delivered"]
    # A later, different final report does not change the outcome either.
    late = await reports.apply_delivery(
        parse_delivery_reports({"results": [_report(ids[0], "EXPIRED", "EXPIRED_EXPIRED")]}).reports
    )
    assert late.duplicates == 1
    after = await outbox.get(ids[0])
    assert after is not None and after.state == "delivered"


async def test_a_rejection_at_send_still_takes_its_report(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    outbox = Outbox(engine, clock)
    reports = ReportStore(engine, clock)
    [queued] = await outbox.enqueue(
        [MessageDraft("r", "main", "sms", VALID[Channel.SMS] | {"to": "385910000000"})]
    )
    [claimed] = await outbox.claim(1, timedelta(seconds=60))
    await outbox.record(
        [SendResult(queued.message_id, Outcome.REJECTED, "REJECTED", "REJECTED_DESTINATION")],
        claimed_by=claimed.claimed_by or "",
    )
    body = {"results": [_report(queued.message_id, "REJECTED", "REJECTED_DESTINATION")]}
    done = await reports.apply_delivery(parse_delivery_reports(body).reports)
    assert done.applied == 1
    kinds = [e["kind"] for e in await outbox.events(queued.message_id)]
    assert kinds == ["queued", "rejected", "rejected"]


async def test_seen_reports_add_one_event_each(engine: AsyncEngine, clock: ManualClock) -> None:
    outbox = Outbox(engine, clock)
    reports = ReportStore(engine, clock)
    ids = await _accepted(outbox, 2)
    body = {
        "results": [
            {"messageId": ids[0], "to": "1", "seenAt": "2026-01-01T11:00:00.000+0000"},
            {"messageId": "nope", "to": "1", "seenAt": "2026-01-01T11:00:00.000+0000"},
        ]
    }
    first = await reports.apply_seen(parse_seen_reports(body).reports)
    second = await reports.apply_seen(parse_seen_reports(body).reports)
    assert (first.applied, first.unknown) == (1, 1)
    assert (second.applied, second.duplicates) == (0, 1)
    assert [e["kind"] for e in await outbox.events(ids[0])] == ["queued", "sent", "seen"]
    message = await outbox.get(ids[0])
    assert message is not None and message.state == "accepted"  # seen is an event, not a state
    assert first.events[0].recipient == message.recipient


async def test_one_report_posted_twice_at_once_adds_one_event(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    import asyncio

    outbox = Outbox(engine, clock)
    [message_id] = await _accepted(outbox, 1)
    parsed = parse_delivery_reports(
        {"results": [_report(message_id, "DELIVERED", "DELIVERED_TO_HANDSET")]}
    )
    stores = [ReportStore(engine, clock) for _ in range(4)]
    await asyncio.gather(*(store.apply_delivery(parsed.reports) for store in stores))
    kinds = [event["kind"] for event in await outbox.events(message_id)]
    assert kinds.count("delivered") == 1


async def test_payloads_posted_together_each_get_their_own_counts(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    """Payloads arriving at once share a transaction; each answer counts only its own
    reports, and a report in two of them is applied once."""
    import asyncio

    outbox = Outbox(engine, clock)
    ids = await _accepted(outbox, 6)
    reports = ReportStore(engine, clock)
    delivered = [_report(i, "DELIVERED", "DELIVERED_TO_HANDSET") for i in ids]
    bodies = [
        {"results": delivered[0:2]},
        {"results": [*delivered[2:4], _report("never-sent", "DELIVERED", "X")]},
        {"results": [delivered[3], *delivered[4:6]]},  # ids[3] again: a provider retry
    ]
    done = await asyncio.gather(
        *(reports.apply_delivery(parse_delivery_reports(body).reports) for body in bodies)
    )
    assert [(d.applied, d.duplicates, d.unknown) for d in done] == [(2, 0, 0), (2, 0, 1), (2, 1, 0)]
    assert [e.message_id for e in done[2].events] == ids[4:6]
    for message_id in ids:
        kinds = [event["kind"] for event in await outbox.events(message_id)]
        assert kinds.count("delivered") == 1, message_id
        message = await outbox.get(message_id)
        assert message is not None and message.state == "delivered"
