"""The custom data extension's row applied to an execute call (pure)."""

from __future__ import annotations

from peoplesync.marketing_cloud.custom_rows import RowQuery, apply_row, row_query
from peoplesync.marketing_cloud.execute import ExecuteCall
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict


def _call(contact: str = "c-1", **arguments: str) -> ExecuteCall:
    base = {"channel": "sms", "text": "Hi %%FirstName%%, your code is %%code%%"}
    return ExecuteCall("a-1", "run-1", "j-1", contact, base | arguments, ("+38591000",))


def test_no_extension_no_read() -> None:
    assert row_query(_call()) is None


def test_the_query_finds_the_contact_by_its_key_field() -> None:
    query = row_query(_call("o'brien", customDataExtension="Audience", customKeyField="SubKey"))
    assert query == RowQuery("Audience", "SubKey", "o'brien")
    assert isinstance(query, RowQuery) and query.where == "SubKey eq 'o''brien'"
    default = row_query(_call(customDataExtension="Audience"))
    assert isinstance(default, RowQuery) and default.key_field == "ContactKey"


def test_bad_settings_and_no_contact_key_are_statuses() -> None:
    bad = row_query(_call(customDataExtension="Aud'; drop"))
    assert isinstance(bad, Verdict) and bad.status is MessageStatus.CUSTOM_EXTENSION_UNAVAILABLE
    anonymous = row_query(_call("", customDataExtension="Audience"))
    assert isinstance(anonymous, Verdict)
    assert anonymous.status is MessageStatus.CUSTOM_ROW_MISSING


def test_the_row_gives_the_phone_and_the_merge_fields() -> None:
    call = _call(customDataExtension="Audience", customPhoneFields="WorkPhone, Mobile")
    row = {"contactkey": "c-1", "firstname": "Ana", "CODE": 42, "workphone": "", "mobile": "+3859"}
    applied = apply_row(call, row)
    assert isinstance(applied, ExecuteCall)
    assert applied.arguments["text"] == "Hi Ana, your code is 42"
    assert applied.phones == ("", "+3859")  # the first with a value is used, as always
    assert call.arguments["text"].startswith("Hi %%")  # the call itself is unchanged


def test_a_missing_row_or_field_is_named() -> None:
    call = _call(customDataExtension="Audience", customPhoneFields="Mobile")
    missing = apply_row(call, None)
    assert isinstance(missing, Verdict) and missing.status is MessageStatus.CUSTOM_ROW_MISSING
    assert "c-1" in missing.detail
    unknown = apply_row(call, {"firstname": "Ana", "mobile": "+3859"})
    assert isinstance(unknown, Verdict)
    assert (unknown.status, unknown.field) == (MessageStatus.INVALID_PLACEHOLDERS, "text")
    assert "%%code%%" in unknown.detail
