"""Parsing delivery and seen reports: both payload versions, the state map, bad entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from peoplesync.errors import PeopleSyncError
from peoplesync.messaging.reports import (
    ReportError,
    parse_delivery_reports,
    parse_seen_reports,
)


def _entry(group: str = "DELIVERED", name: str = "DELIVERED_TO_HANDSET", **extra: Any) -> Any:
    return {
        "bulkId": "b1",
        "messageId": "m1",
        "to": "385911234567",
        "sentAt": "2019-11-09T16:00:00.000+0000",
        "doneAt": "2019-11-09T16:00:05.123+0000",
        "price": {"pricePerMessage": 0.01, "currency": "EUR"},
        "status": {"groupId": 3, "groupName": group, "id": 5, "name": name, "description": "d"},
        "error": {
            "groupId": 0,
            "groupName": "OK",
            "id": 0,
            "name": "NO_ERROR",
            "description": "No Error",
            "permanent": False,
        },
    } | extra


def test_v3_delivery_report_is_read_with_times_price_and_parts() -> None:
    parsed = parse_delivery_reports({"results": [_entry(sender="Acme", messageCount=2)]})
    assert parsed.errors == []
    (report,) = parsed.reports
    assert report.message_id == "m1" and report.state == "delivered"
    assert report.sender == "Acme" and report.parts == 2
    assert report.price == 0.01 and report.currency == "EUR"
    assert report.done_at == datetime(2019, 11, 9, 16, 0, 5, 123000, tzinfo=UTC)
    assert report.error_name == "NO_ERROR" and report.error_permanent is False


def test_v2_delivery_report_uses_from_and_sms_count() -> None:
    parsed = parse_delivery_reports({"results": [_entry(**{"from": "Acme", "smsCount": 3})]})
    (report,) = parsed.reports
    assert (report.sender, report.parts) == ("Acme", 3)


def test_status_groups_map_to_message_states() -> None:
    cases = {
        ("DELIVERED", "DELIVERED_TO_HANDSET"): "delivered",
        ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED"): "undeliverable",
        ("EXPIRED", "EXPIRED_EXPIRED"): "expired",
        ("REJECTED", "REJECTED_NETWORK"): "rejected",
        ("PENDING", "PENDING_ACCEPTED"): None,
        ("ACCEPTED", "ACCEPTED"): None,
        ("DELIVERED", "DELIVERED_TO_OPERATOR"): None,  # intermediate
    }
    for (group, name), state in cases.items():
        (report,) = parse_delivery_reports({"results": [_entry(group, name)]}).reports
        assert report.state == state, (group, name)


def test_bad_entry_is_named_and_good_entries_are_kept() -> None:
    body = {
        "results": [
            _entry(),
            _entry(messageId="m2", doneAt="yesterday"),
            _entry(messageId="m3", status={"name": "X"}),
            "junk",
            _entry(messageId="m4"),
        ]
    }
    parsed = parse_delivery_reports(body)
    assert [r.message_id for r in parsed.reports] == ["m1", "m4"]
    assert sorted((e.record or "", e.field or "") for e in parsed.errors) == [
        ("results[1] (message m2)", "doneAt"),
        ("results[2] (message m3)", "status.groupName"),
        ("results[3]", ""),
    ]
    assert all("how to fix" in str(e) for e in parsed.errors)


def test_payload_without_results_is_one_error() -> None:
    parsed = parse_delivery_reports({"reports": []})
    assert parsed.reports == [] and parsed.errors[0].field == "results"


def test_seen_report_is_read_and_needs_seen_at() -> None:
    body = {
        "results": [
            {
                "messageId": "m1",
                "to": "385911234567",
                "from": "Acme",
                "sentAt": "2019-11-09T16:00:00.000+0000",
                "seenAt": "2019-11-09T16:05:00.000+0000",
            },
            {"messageId": "m2", "to": "385911234567"},
        ]
    }
    parsed = parse_seen_reports(body)
    (seen,) = parsed.reports
    assert seen.message_id == "m1" and seen.sender == "Acme"
    assert seen.seen_at == datetime(2019, 11, 9, 16, 5, tzinfo=UTC)
    assert [(e.record, e.field) for e in parsed.errors] == [("results[1] (message m2)", "seenAt")]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(
    [
        "messageId",
        "status",
        "groupName",
        "name",
        "error",
        "permanent",
        "price",
        "pricePerMessage",
        "doneAt",
        "sentAt",
        "seenAt",
        "messageCount",
        "smsCount",
        "to",
        "from",
    ]
)
_entries = st.dictionaries(_keys, _json | st.dictionaries(_keys, _json, max_size=4), max_size=8)


@given(st.one_of(_json, st.fixed_dictionaries({"results": st.lists(_entries | _json, max_size=5)})))
def test_arbitrary_json_gives_only_report_errors(body: object) -> None:
    for parse in (parse_delivery_reports, parse_seen_reports):
        try:
            parsed = parse(body)  # type: ignore[operator]
        except PeopleSyncError:  # the project's own errors are allowed; nothing else
            continue
        assert all(isinstance(e, ReportError) for e in parsed.errors)


def test_times_in_other_offsets_and_without_one_are_read_as_utc() -> None:
    parsed = parse_delivery_reports(
        {"results": [_entry(sentAt="2019-11-09T17:00:00.000+0100", doneAt="2019-11-09T16:00:05")]}
    )
    (report,) = parsed.reports
    assert report.sent_at == datetime(2019, 11, 9, 16, 0, tzinfo=UTC)
    assert report.sent_at is not None and report.sent_at.tzinfo is UTC
    assert report.done_at == datetime(2019, 11, 9, 16, 0, 5, tzinfo=UTC)
