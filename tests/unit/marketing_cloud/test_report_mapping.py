"""Report rows as report data extension rows, decided without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from peoplesync.marketing_cloud.report_mapping import (
    callback_fields,
    fingerprint,
    inbound_row,
    report_kind,
    report_row,
    webhook_body,
)

CALLBACK = '{"ActivityId":"a","MID":"51","ContactKey":"C-1","custom":"x"}'
AT = datetime(2026, 12, 5, 12, tzinfo=UTC)


def test_callback_fields_read_objects_only() -> None:
    assert callback_fields(CALLBACK)["ContactKey"] == "C-1"
    assert callback_fields("not json") == {} and callback_fields("[1]") == {}
    assert callback_fields(None) == {}


def test_a_report_row_belongs_to_the_unit_of_its_mid() -> None:
    row = {"message_id": "m1", "channel": "sms", "callback_data": CALLBACK, "done_at": AT}
    mapped = report_row(row, "51")
    assert mapped is not None
    assert mapped["messageId"] == "m1" and mapped["doneAt"] == AT  # a datetime: UTC-6 later
    assert mapped["ActivityId"] == "a" and mapped["ContactKey"] == "C-1"
    assert "custom" not in mapped  # only peoplesync's own callback fields get columns
    assert "originalMCC" in mapped and "seenAt" not in mapped
    assert report_row(row, "52") is None
    assert report_row({**row, "callback_data": None}, "51") is None
    omni = report_row({**row, "channel": "viber"}, "51")
    assert omni is not None and "seenAt" in omni and "Currency" in omni
    assert (report_kind("mms"), report_kind("whatsapp")) == ("sms", "omni")


def test_an_inbound_row_takes_the_contact_of_the_message_replied_to() -> None:
    reply = {"message_id": "in-1", "sender": "385", "text": "YES", "in_reply_to": "m1"}
    mapped = inbound_row(reply, CALLBACK, "51")
    assert mapped is not None
    assert mapped["from"] == "385" and mapped["inReplyTo"] == "m1"
    assert mapped["ContactKey"] == "C-1" and mapped["callbackData"] == CALLBACK
    assert inbound_row(reply, None, "51") is None


def test_fingerprint_changes_with_the_row() -> None:
    row = {"messageId": "m1", "doneAt": AT, "statusGroupName": "DELIVERED"}
    assert fingerprint(row) == fingerprint(dict(reversed(list(row.items()))))
    assert fingerprint(row) != fingerprint({**row, "statusGroupName": "SEEN"})


def test_webhook_body_names_unit_and_extension() -> None:
    body = webhook_body("acme", "inbound", [{"messageId": "in-1"}])
    assert body["dataExtension"] == "Inbound Messages" and body["businessUnit"] == "acme"
    assert body["rows"] == [{"messageId": "in-1"}]
