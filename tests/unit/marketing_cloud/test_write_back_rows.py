"""Pure parts of write-back and deploy: row preparation, keys/values split, batching, field
definitions and upgrades, retry delays and error messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from peoplesync.errors import MissingMandatoryAttributeError, ValidationError
from peoplesync.marketing_cloud.client import RetryPolicy, error_message, retry_after
from peoplesync.marketing_cloud.data_extensions import (
    INBOUND_MESSAGES,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
    Column,
    FieldType,
)
from peoplesync.marketing_cloud.deploy import (
    extension_definition,
    field_definition,
    upgrade_fields,
)
from peoplesync.marketing_cloud.write_back import (
    batches,
    last_per_key,
    prepare_row,
    prepare_rows,
    row_name,
    rowset_item,
)


def test_prepare_row_uses_column_names_texts_and_server_time() -> None:
    row = prepare_row(
        SMS_DELIVERY_REPORTS,
        {
            "MESSAGEID": "m1",
            "errorPermanent": True,
            "statusId": 5,
            "pricePerMessage": Decimal("0.0125"),
            "doneAt": datetime(2026, 1, 1, 3, 0, 0, 250_000, tzinfo=UTC),
            "sentAt": datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            "from": None,
        },
        0,
    )
    assert row == {
        "messageId": "m1",
        "errorPermanent": "true",
        "statusId": "5",
        "pricePerMessage": "0.0125",
        "doneAt": "2025-12-31T21:00:00.250",
        "sentAt": "2025-12-31T17:00:00.000",
        "from": None,
    }


def test_unknown_column_names_record_and_field() -> None:
    with pytest.raises(ValidationError) as raised:
        prepare_row(SMS_DELIVERY_REPORTS, {"messageId": "m7", "colour": "red"}, 3)
    assert raised.value.record == "peoplesync_sms_delivery_reports[m7]"
    assert raised.value.field == "colour"


def test_too_long_and_missing_key() -> None:
    with pytest.raises(ValidationError, match="4001 characters, at most 4000"):
        prepare_row(INBOUND_MESSAGES, {"messageId": "i1", "text": "x" * 4001}, 0)
    with pytest.raises(MissingMandatoryAttributeError) as raised:
        prepare_row(UNIFIED_URL_TRACKING, {"messageId": "m1", "url": "https://a.test"}, 4)
    assert raised.value.field == "sendDateTime"
    assert raised.value.record == "peoplesync_unified_url_tracking row 5"


def test_prepare_rows_keeps_the_good_ones_in_order() -> None:
    good, refused = prepare_rows(
        SMS_DELIVERY_REPORTS,
        [{"messageId": "a"}, {"messageId": ""}, {"messageId": "c", "nope": 1}, {"messageId": "d"}],
    )
    assert [row["messageId"] for row in good] == ["a", "d"]
    assert [error.field for error in refused] == ["messageId", "nope"]


def test_rowset_item_splits_keys_from_values() -> None:
    item = rowset_item(
        UNIFIED_URL_TRACKING,
        {"messageId": "m", "url": "u", "sendDateTime": "t", "channel": "SMS"},
    )
    assert item == {
        "keys": {"messageId": "m", "url": "u", "sendDateTime": "t"},
        "values": {"channel": "SMS"},
    }
    assert row_name(
        UNIFIED_URL_TRACKING, {"messageid": "m", "URL": "u", "sendDateTime": "t"}, 0
    ) == ("peoplesync_unified_url_tracking[m/u/t]")


def test_batches_cover_every_row_once() -> None:
    rows = [{"n": str(n)} for n in range(7)]
    parts = batches(rows, 3)
    assert [len(part) for part in parts] == [3, 3, 1]
    assert [row for part in parts for row in part] == rows


def test_field_definition_and_create_body() -> None:
    definition = field_definition(Column("price", FieldType.DECIMAL, 18, scale=7), 4)
    assert definition == {
        "name": "price",
        "type": "Decimal",
        "isPrimaryKey": False,
        "isNullable": True,
        "ordinal": 4,
        "length": 18,
        "scale": 7,
    }
    body = extension_definition(SMS_DELIVERY_REPORTS)
    assert body["key"] == SMS_DELIVERY_REPORTS.key
    assert [each["ordinal"] for each in body["fields"]] == list(range(len(body["fields"])))
    assert body["fields"][0] == {
        "name": "messageId",
        "type": "Text",
        "isPrimaryKey": True,
        "isNullable": False,
        "ordinal": 0,
        "length": 50,
    }


def test_upgrade_fields_only_missing_and_never_required_without_default() -> None:
    present = {column.name.upper() for column in UNIFIED_URL_TRACKING.columns}
    present -= {"CHANNEL", "OS"}
    added = upgrade_fields(UNIFIED_URL_TRACKING, present, 30)
    assert [each["name"] for each in added] == ["os", "channel"]
    assert all(each["isNullable"] for each in added)  # channel is required on create
    assert [each["ordinal"] for each in added] == [30, 31]
    assert (
        upgrade_fields(UNIFIED_URL_TRACKING, {c.name for c in UNIFIED_URL_TRACKING.columns}, 0)
        == []
    )


def test_retry_delay_prefers_retry_after_and_caps() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=10)
    assert [policy.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.delay(9) == 10
    assert policy.delay(0, 3) == 3
    assert policy.delay(0, 600) == 10
    assert retry_after(httpx.Response(429, headers={"Retry-After": "12"})) == 12
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_error_message_reads_every_envelope() -> None:
    rest = httpx.Response(
        400,
        json={
            "message": "Unable to save rows",
            "errorcode": 10006,
            "additionalErrors": [{"message": "Email: not valid", "errorcode": 10000}],
        },
    )
    assert error_message(rest) == "Unable to save rows; Email: not valid"
    queued = httpx.Response(400, json={"resultMessages": [{"message": "CustomObjectNotFound"}]})
    assert error_message(queued) == "CustomObjectNotFound"
    oauth = httpx.Response(401, json={"error": "invalid_client", "error_description": "no"})
    assert error_message(oauth) == "no"
    assert error_message(httpx.Response(502, text="<html>")) == "HTTP 502"


def test_last_per_key_keeps_the_last_row_of_each_key_once() -> None:
    rows: list[dict[str, str | None]] = [
        {"messageId": "a", "statusName": "PENDING"},
        {"messageId": "b", "statusName": "PENDING"},
        {"messageId": "a", "statusName": "DELIVERED"},
    ]
    kept = last_per_key(SMS_DELIVERY_REPORTS, rows)
    assert kept == [rows[1], rows[2]]
