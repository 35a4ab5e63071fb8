"""Delivery and seen reports kept with the columns of the seed's SMS Delivery Reports and
Omni Reports data extensions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.report_rows import OMNI_COLUMNS, SMS_COLUMNS, as_data_extension
from peoplesync.messaging.report_store import ReportStore
from peoplesync.messaging.reports import parse_delivery_reports, parse_seen_reports
from peoplesync.messaging.tables import message_reports
from peoplesync.people.sql_store import SqlPeopleStore
from tests.integration.messaging.conftest import Rig, draft
from tests.unit.messaging.test_channel_validation import VALID


async def _row(store: SqlPeopleStore, message_id: str) -> dict[str, object]:
    async with store.engine.connect() as conn:
        found = await conn.execute(
            sa.select(message_reports).where(message_reports.c.message_id == message_id)
        )
        return as_data_extension(found.one()._mapping)


async def test_sandbox_reports_fill_the_data_extension_columns(rig: Rig) -> None:
    sms = MessageDraft(
        "sms", "main", "sms", VALID[Channel.SMS] | {"to": "385911234501"}, "journey=7"
    )
    [sent_sms, sent_viber] = await rig.outbox.enqueue(
        [sms, draft("viber", Channel.VIBER, "385911234502")]
    )
    await rig.sender.run_once()
    rig.clock.now += 1.5
    await rig.dispatch()
    sms_row = await _row(rig.store, sent_sms.message_id)
    assert set(sms_row) == set(SMS_COLUMNS)
    assert {k: sms_row[k] for k in ("statusGroupId", "statusGroupName", "statusId")} == {
        "statusGroupId": 3,
        "statusGroupName": "DELIVERED",
        "statusId": 5,
    }
    assert (sms_row["statusName"], sms_row["errorGroupName"], sms_row["errorId"]) == (
        "DELIVERED_TO_HANDSET",
        "OK",
        0,
    )
    assert (sms_row["pricePerMessage"], sms_row["priceCurrency"]) == (0.01, "EUR")
    assert (sms_row["callbackData"], sms_row["to"], sms_row["messageCount"]) == (
        "journey=7",
        "385911234501",
        1,
    )
    assert sms_row["sentAt"] is not None and sms_row["doneAt"] is not None
    assert (sms_row["errorPermanent"], sms_row["originalMCC"]) == (False, None)
    viber_row = await _row(rig.store, sent_viber.message_id)
    assert set(viber_row) == set(OMNI_COLUMNS)
    assert (viber_row["channel"], viber_row["seenAt"], viber_row["from"]) == (
        "viber",
        None,
        "Brand",
    )
    rig.clock.now += 2.5
    await rig.dispatch()
    seen = await _row(rig.store, sent_viber.message_id)
    assert seen["seenAt"] is not None and seen["statusName"] == "DELIVERED_TO_HANDSET"


async def test_a_seen_report_before_the_delivery_report_makes_the_row(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock)
    [queued] = await outbox.enqueue([draft("v", Channel.VIBER, "385911234502")])
    reports = ReportStore(store.engine, clock)
    seen = parse_seen_reports(
        {"results": [{"messageId": queued.message_id, "seenAt": "2027-01-15T08:05:00.000+0000"}]}
    )
    await reports.apply_seen(seen.reports)
    delivery = parse_delivery_reports(
        {
            "results": [
                {
                    "messageId": queued.message_id,
                    "to": "385911234502",
                    "mccMnc": "21910",
                    "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DTH"},
                    "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR"},
                    "doneAt": "2027-01-15T08:00:00.000+0000",
                }
            ]
        }
    )
    assert delivery.errors == []
    await reports.apply_delivery(delivery.reports)
    row = await _row(store, queued.message_id)
    assert row["seenAt"] == datetime(2027, 1, 15, 8, 5, tzinfo=UTC).isoformat()
    assert (row["statusId"], row["errorName"], row["to"]) == (5, "NO_ERROR", "385911234502")
    assert "originalMCC" not in row  # Omni Reports have no network columns


async def test_sms_reports_keep_the_network_of_the_number(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock)
    [queued] = await outbox.enqueue([draft("s", Channel.SMS, "385911234501")])
    delivery = parse_delivery_reports(
        {
            "results": [
                {
                    "messageId": queued.message_id,
                    "mccMnc": "21910",
                    "smsCount": 2,
                    "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5},
                }
            ]
        }
    )
    await ReportStore(store.engine, clock).apply_delivery(delivery.reports)
    row = await _row(store, queued.message_id)
    assert (row["originalMCC"], row["originalMNC"], row["messageCount"]) == ("219", "10", 2)
    assert row["to"] == "385911234501"  # the report had no "to": the message's recipient
