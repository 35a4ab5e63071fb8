"""The deployed data extensions carry the report columns users split on."""

from __future__ import annotations

from peoplesync.marketing_cloud.data_extensions import (
    CALLBACK_COLUMNS,
    DATA_EXTENSIONS,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
    FieldType,
    missing_columns,
)


def test_report_extensions_have_the_split_fields_and_callback_columns() -> None:
    for extension in (SMS_DELIVERY_REPORTS, OMNI_REPORTS):
        names = {column.name for column in extension.columns}
        assert {
            "messageId",
            "statusName",
            "statusGroupName",
            "errorName",
            "doneAt",
            "sentAt",
        } <= names
        assert {column.name for column in CALLBACK_COLUMNS} <= names
        assert extension.primary_key == ("messageId",)
    assert OMNI_REPORTS.column("seenAt") is not None
    assert SMS_DELIVERY_REPORTS.column("originalmcc") is not None  # names compare without case
    callback = SMS_DELIVERY_REPORTS.column("callbackData")
    assert callback is not None and callback.length == 4000


def test_clicks_are_keyed_by_message_url_and_time() -> None:
    assert UNIFIED_URL_TRACKING.primary_key == ("messageId", "url", "sendDateTime")
    date = UNIFIED_URL_TRACKING.column("sendDateTime")
    assert date is not None and date.type is FieldType.DATE and not date.nullable


def test_names_and_keys_are_unique_and_columns_unique_per_extension() -> None:
    assert len({each.key for each in DATA_EXTENSIONS}) == len(DATA_EXTENSIONS) == 5
    for extension in DATA_EXTENSIONS:
        lowered = [column.name.lower() for column in extension.columns]
        assert len(lowered) == len(set(lowered)), extension.name


def test_missing_columns_lists_what_an_upgrade_adds() -> None:
    deployed = {"MESSAGEID", "to", "statusName"}
    added = missing_columns(SMS_DELIVERY_REPORTS, deployed)
    names = {column.name for column in added}
    assert "messageId" not in names and "to" not in names and "doneAt" in names
    assert (
        missing_columns(SMS_DELIVERY_REPORTS, {c.name for c in SMS_DELIVERY_REPORTS.columns}) == ()
    )
