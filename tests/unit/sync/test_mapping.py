"""Mapping lines: modes, create/update sets, conversion and contact points (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from peoplesync.errors import ConfigurationError, ValidationError
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.sync.inbound.mapper import inbound_values, read_path
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, Direction, FieldMapping, Mode

LEAD = {
    "attributes": {"type": "Lead"},
    "Id": "00Q8d0000000001EAA",
    "FirstName": " Ada ",
    "LastName": "Lovelace",
    "Email": "Ada@Example.com",
    "Phone": "+44 20 7946 0958",
    "MobilePhone": None,
    "Company": "Engines Ltd",
    "Title": None,
    "City": "London",
    "Country": "UK",
    "Street": None,
    "LeadSource": "Web",
    "Status": "Open - Not Contacted",
}


def test_default_lead_mapping_on_create() -> None:
    result = inbound_values(LEAD, DEFAULT_MAPPINGS["Lead"], {}, current=None)
    assert result.values["first_name"] == "Ada"
    assert result.values["company"] == "Engines Ltd"
    assert result.values["title"] is None
    assert result.emails == ["Ada@Example.com"]
    assert result.phones == ["+44 20 7946 0958"]


def test_fill_only_fills_empty_values_and_overwrite_replaces() -> None:
    lines = [
        FieldMapping("City", "city", mode=Mode.FILL),
        FieldMapping("Title", "title", mode=Mode.FILL),
        FieldMapping("Company", "company", mode=Mode.OVERWRITE),
        FieldMapping("Status", "status", mode=Mode.DONT_SYNC),
    ]
    record = {**LEAD, "Title": "Countess"}
    result = inbound_values(
        record,
        lines,
        {},
        current={"city": "Paris", "title": None, "company": "Old Co", "status": "x"},
    )
    assert result.values == {"title": "Countess", "company": "Engines Ltd"}


def test_create_and_update_sets_differ() -> None:
    lines = [
        FieldMapping("LeadSource", "lead_source", on_update=False),
        FieldMapping("Status", "status", on_create=False),
    ]
    assert set(inbound_values(LEAD, lines, {}, current=None).values) == {"lead_source"}
    assert set(inbound_values(LEAD, lines, {}, current={}).values) == {"status"}


def test_outbound_only_lines_do_not_move_values_inbound() -> None:
    lines = [
        FieldMapping("City", "city", direction=Direction.OUTBOUND),
        FieldMapping("Country", "country", direction=Direction.BOTH),
    ]
    assert inbound_values(LEAD, lines, {}, current=None).values == {"country": "UK"}


def test_salesforce_email_becomes_primary_and_others_are_kept() -> None:
    lines = [FieldMapping("Email", "emails")]
    result = inbound_values(
        LEAD, lines, {}, current={}, current_emails=["old@example.com", "ada@example.com"]
    )
    assert result.emails == ["Ada@Example.com", "old@example.com"]
    fill = inbound_values(
        LEAD,
        [FieldMapping("Email", "emails", mode=Mode.FILL)],
        {},
        current={},
        current_emails=["old@example.com"],
    )
    assert fill.emails is None  # the person already has an email


def test_typed_custom_attributes_and_relationship_paths() -> None:
    definitions = {
        "score": AttributeDefinition("score", AttributeType.NUMBER),
        "vip": AttributeDefinition("vip", AttributeType.BOOLEAN),
        "seen": AttributeDefinition("seen", AttributeType.DATETIME),
        "topics": AttributeDefinition("topics", AttributeType.LIST),
    }
    record = {
        "Id": "003x",
        "Score__c": 42.0,
        "Vip__c": True,
        "Seen__c": "2026-05-01T12:00:00.000+0000",
        "Topics__c": "a;b",
        "Account": {"Name": "Acme"},
        "Birthdate": "1990-02-03",
    }
    lines = [
        FieldMapping("Score__c", "score"),
        FieldMapping("Vip__c", "vip"),
        FieldMapping("Seen__c", "seen"),
        FieldMapping("Topics__c", "topics"),
        FieldMapping("Account.Name", "company"),
        FieldMapping("Birthdate", "birth_date"),
    ]
    values = inbound_values(record, lines, definitions, current=None).values
    assert values == {
        "score": 42,
        "vip": True,
        "seen": datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        "topics": ["a", "b"],
        "company": "Acme",
        "birth_date": date(1990, 2, 3),
    }
    assert read_path({"Account": None}, "Account.Name") is None


def test_conversion_errors_name_record_and_field() -> None:
    definitions = {"score": AttributeDefinition("score", AttributeType.NUMBER)}
    with pytest.raises(ValidationError) as caught:
        inbound_values(
            {"Id": "003y", "Score__c": 4.5},
            [FieldMapping("Score__c", "score")],
            definitions,
            current=None,
        )
    assert caught.value.record == "003y"
    assert caught.value.field == "Score__c"
    with pytest.raises(ConfigurationError, match="create the attribute"):
        inbound_values(LEAD, [FieldMapping("City", "shoe_size")], {}, current=None)
