"""A transfer request checked before anything runs, and the retry conditions of failed
records."""

from __future__ import annotations

from typing import Any

import pytest

from peoplesync.errors import ValidationError
from peoplesync.sync.transfer.request import check_steps, parse_request, retry_conditions


def test_blank_values_mean_not_set_and_statuses_are_deduplicated() -> None:
    request = parse_request(
        modified_within_days=" ", lead_statuses=["Open", " Open ", "", "Working"], condition=" "
    )
    assert request.modified_within_days is None
    assert request.lead_statuses == ("Open", "Working")
    assert request.condition is None
    assert parse_request(modified_within_days="90").modified_within_days == 90


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"modified_within_days": "ninety"}, "modified_within_days"),
        ({"modified_within_days": 0}, "modified_within_days"),
        ({"modified_within_days": "99999999"}, "modified_within_days"),
        ({"lead_statuses": ["x" * 256]}, "lead_status"),
        ({"lead_statuses": [f"s{n}" for n in range(51)]}, "lead_status"),
        ({"condition": "Name = 'a' LIMIT 1"}, "filter"),
        ({"condition": "Name = 'a"}, "filter"),
        ({"condition": "(Name = 'a'"}, "filter"),
        ({"condition": "x" * 4001}, "filter"),
    ],
)
def test_bad_values_name_their_field(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_request(**values)
    assert caught.value.field == field
    assert caught.value.record == "transfer"


def test_steps_must_be_enabled_ones() -> None:
    assert check_steps(parse_request(), ["Lead", "Contact"]) == ["Lead", "Contact"]
    assert check_steps(parse_request(steps=["Contact"]), ["Lead", "Contact"]) == ["Contact"]
    with pytest.raises(ValidationError) as caught:
        check_steps(parse_request(steps=["Opportunity"]), ["Lead"])
    assert caught.value.field == "steps"
    assert "Lead" in caught.value.hint


def test_retry_reads_failed_salesforce_records_of_enabled_steps_only() -> None:
    def problem(step: str, record: str, severity: str = "error") -> dict[str, str]:
        return {"step": step, "record_id": record, "severity": severity}

    conditions = retry_conditions(
        [
            problem("Lead", "00Q000000000001AAA"),
            problem("Lead", "00Q000000000001AAA"),
            problem("Lead", "00Q000000000002"),
            problem("Lead", "00Q000000000003AAA", "warning"),
            problem("Contact", "person 01abc"),
            problem("Opportunity", "006000000000001AAA"),
            problem("Lead", "x' OR Name != '"),
        ],
        ["Lead", "Contact"],
    )
    assert conditions == {"Lead": "Id IN ('00Q000000000001AAA', '00Q000000000002')"}
