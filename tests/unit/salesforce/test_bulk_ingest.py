"""Bulk API 2.0 ingest: error parsing, CSV writing, the collections/bulk break-even, lookups."""

from __future__ import annotations

from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peoplesync.salesforce.bulk_ingest import (
    collection_calls,
    ingest_calls,
    next_poll,
    parse_error,
    prefer_bulk,
    to_csv,
)
from peoplesync.salesforce.lookup import _encoded_length, in_batches
from peoplesync.salesforce.soql import select, soql


def test_sf_error_keeps_code_message_and_fields() -> None:
    error = parse_error(
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    assert error == {
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName]",
        "fields": ["LastName"],
    }


def test_sf_error_fields_from_the_message_when_not_trailing() -> None:
    error = parse_error("STRING_TOO_LONG:Title: data value too large: [Title]")
    assert error["statusCode"] == "STRING_TOO_LONG"
    assert error["fields"] == ["Title"]


def test_sf_error_without_a_code() -> None:
    assert parse_error("something broke")["statusCode"] == "UNKNOWN_EXCEPTION"


def test_csv_leaves_absent_fields_empty_and_nulls_as_na_on_update() -> None:
    header, body = to_csv(
        [{"Id": "00Q1", "Title": None}, {"Id": "00Q2", "City": "Split"}], "update"
    )
    assert header == ["Id", "Title", "City"]
    assert body.decode().splitlines() == ["Id,Title,City", "00Q1,#N/A,", "00Q2,,Split"]


def test_break_even_between_collections_and_a_job() -> None:
    assert ingest_calls("update") == 5 and ingest_calls("insert") == 6
    assert not prefer_bulk("update", 1000) and prefer_bulk("update", 1001)
    assert not prefer_bulk("insert", 1200) and prefer_bulk("insert", 1201)
    for count in (1, 200, 999, 5_000, 100_000):
        chosen = ingest_calls("update", count) if prefer_bulk("update", count) else None
        assert (chosen or collection_calls(count)) <= collection_calls(count)


def test_lookups_fill_queries_up_to_the_limits() -> None:
    emails = [f"person{i}@lookup.example" for i in range(10_000)]

    def build(batch: list[str]) -> str:
        return select("Lead", ["Id", "Email"], where=soql("Email IN {}", batch))

    queries = in_batches(emails, build, max_url_chars=60_000, max_chars=100_000)
    assert len(queries) <= 8  # 200 a query (a GET URL's worth) would need 50
    assert all(len(urlencode({"q": q})) <= 60_000 for q in queries)
    assert sum(q.count("@lookup.example") for q in queries) == len(emails)


def test_next_poll_grows_until_the_job_reports_progress() -> None:
    assert next_poll(0.2, 0.2, 0, 50_000, first=0.2, longest=10) == pytest.approx(0.3)
    assert next_poll(8.0, 15.5, 0, 50_000, first=0.5, longest=10) == 10  # capped
    assert next_poll(2.0, 3.5, 50_000, 50_000, first=0.5, longest=10) == 3.0  # all reported
    assert next_poll(0.5, 0.5, 0, 50_000, first=0.5, longest=10, growth=2) == 1.0


def test_polls_see_a_job_end_at_most_half_its_running_time_late() -> None:
    for job_seconds in (0.3, 0.7, 2.0, 9.0, 40.0):
        delay, waited, polls = 0.2, 0.0, 0
        while True:
            waited += delay
            polls += 1
            if waited >= job_seconds:
                break
            delay = next_poll(delay, waited, 0, 10_000, first=0.2, longest=10)
        assert waited - job_seconds <= max(0.2, job_seconds * 0.5) + 1e-9
        assert polls <= 12


def test_next_poll_aims_at_the_end_the_pace_predicts() -> None:
    # 40,000 of 50,000 done after 8 s: about 2 s left, polled 10% late instead of 8 s later.
    assert next_poll(4.0, 8.0, 40_000, 50_000, first=0.5, longest=10) == 2.2
    # Never longer than doubling, never sooner than the first poll.
    assert next_poll(1.0, 1.5, 10_000, 50_000, first=0.5, longest=10) == 1.5
    assert next_poll(4.0, 8.0, 49_990, 50_000, first=0.5, longest=10) == 0.5


@given(st.text())
def test_lookup_batches_measure_the_encoded_query_as_quote_plus_does(text: str) -> None:
    assert _encoded_length(text) == len(quote_plus(text))
