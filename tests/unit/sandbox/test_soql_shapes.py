"""SOQL pieces without an org: parsing of sub-queries, aggregates, FIELDS() and TYPEOF;
compound field keys; what the compiler refuses before any SQL runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.soql import (
    Aggregate,
    Compare,
    Count,
    FieldsFunction,
    Path,
    SoqlError,
    SubQuery,
    TypeOf,
    parse,
)
from peoplesync.sandbox.salesforce.soql_compiler import CompiledQuery, compile_soql
from peoplesync.sandbox.salesforce.soql_result import compound_json, part_key

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def compile_(soql: str, bulk: str | None = None) -> CompiledQuery:
    return compile_soql(soql, Schema.standard(), include_deleted=False, now=NOW, bulk=bulk)


def test_aggregates_group_by_having_parse() -> None:
    query = parse(
        "SELECT LeadSource, COUNT(Id), count_distinct(Email) emails, SUM ( NumberOfEmployees ) "
        "FROM Lead GROUP BY LeadSource HAVING COUNT(Id) > 1 ORDER BY COUNT(Id) DESC LIMIT 5"
    )
    assert query.select == (
        Path(("LeadSource",)),
        Aggregate("COUNT", Path(("Id",))),
        Aggregate("COUNT_DISTINCT", Path(("Email",)), "emails"),
        Aggregate("SUM", Path(("NumberOfEmployees",))),
    )
    assert query.group_by == (Path(("LeadSource",)),)
    assert query.having == Compare(Aggregate("COUNT", Path(("Id",))), ">", query.having.values)
    assert query.order[0].path == Aggregate("COUNT", Path(("Id",)))
    assert parse("SELECT COUNT() FROM Lead").select == (Count(None),)
    # Field names that start like functions stay fields.
    assert parse("SELECT Count__c, Minimum, SUMMARY FROM Lead").select == (
        Path(("Count__c",)),
        Path(("Minimum",)),
        Path(("SUMMARY",)),
    )


def test_sub_query_fields_and_typeof_parse() -> None:
    query = parse(
        "SELECT Id, (SELECT Email FROM Contacts WHERE Email != null LIMIT 2), FIELDS(standard), "
        "TYPEOF What WHEN Account THEN Name, Industry ELSE Name END FROM Account"
    )
    _, sub, fields, typeof = query.select
    assert isinstance(sub, SubQuery)
    assert (sub.query.sobject, sub.query.limit) == ("Contacts", 2)
    assert fields == FieldsFunction("STANDARD")
    assert typeof == TypeOf(
        "What",
        (("Account", (Path(("Name",)), Path(("Industry",)))),),
        (Path(("Name",)),),
    )
    with pytest.raises(SoqlError) as error:
        parse("SELECT FIELDS(EVERYTHING) FROM Account")
    assert error.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("component", "key"),
    [
        ("MailingStreet", "street"),
        ("BillingPostalCode", "postalCode"),
        ("OtherGeocodeAccuracy", "geocodeAccuracy"),
        ("State", "state"),
        ("ShippingStateCode", "stateCode"),
        ("CountryCode", "countryCode"),
        ("Latitude", "latitude"),
        ("Site__Longitude__s", "longitude"),
    ],
)
def test_compound_part_keys(component: str, key: str) -> None:
    assert part_key(component) == key


def test_compound_json_is_null_when_every_part_is() -> None:
    assert compound_json([("city", "string", None), ("latitude", "double", None)]) is None
    assert compound_json([("latitude", "double", 2), ("city", "string", "Oslo")]) == {
        "city": "Oslo",
        "latitude": 2.0,
    }


@pytest.mark.parametrize(
    ("soql", "bulk", "code", "words"),
    [
        ("SELECT Id FROM Contact WHERE MailingAddress != null", None, "INVALID_FIELD", "Distance"),
        ("SELECT MailingAddress FROM Contact", "bulk2", "FUNCTIONALITY_NOT_ENABLED", "compound"),
        ("SELECT MailingAddress FROM Contact", "bulk1-json", "FUNCTIONALITY_NOT_ENABLED", ""),
        ("SELECT FIELDS(ALL) FROM Contact LIMIT 10", "bulk2", "MALFORMED_QUERY", "unbounded"),
        ("SELECT FIELDS(CUSTOM) FROM Contact", None, "MALFORMED_QUERY", "LIMIT of at most 200"),
        ("SELECT COUNT(Id) FROM Contact", "bulk1-csv", "FUNCTIONALITY_NOT_ENABLED", ""),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "bulk2", "FeatureNotEnabled", ""),
        ("SELECT Id, (SELECT Id FROM Nope) FROM Account", None, "INVALID_TYPE", "Nope"),
        (
            "SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Contacts) FROM Account",
            None,
            "MALFORMED_QUERY",
            "one level",
        ),
        ("SELECT Who.Title, Who.Birthdate FROM Task", None, "INVALID_FIELD", "entity 'Name'"),
        ("SELECT What.Owner.Name FROM Task", None, "INVALID_FIELD", "relationship 'Owner'"),
        (
            "SELECT TYPEOF Account WHEN Account THEN Name END FROM Contact",
            None,
            "MALFORMED_QUERY",
            "",
        ),
        ("SELECT TYPEOF What WHEN Lead THEN Name END FROM Task", None, "INVALID_TYPE", "Lead"),
        ("SELECT COUNT() FROM Lead GROUP BY LeadSource", None, "MALFORMED_QUERY", "GROUP BY"),
        ("SELECT Name FROM Lead HAVING COUNT(Id) > 1", None, "MALFORMED_QUERY", "HAVING"),
        (
            "SELECT LeadSource FROM Lead GROUP BY LeadSource ORDER BY Name",
            None,
            "MALFORMED_QUERY",
            "",
        ),
        ("SELECT Id, COUNT(Id) FROM Lead", None, "MALFORMED_QUERY", "grouped or aggregated"),
        ("SELECT Name n FROM Lead", None, "MALFORMED_QUERY", "Only aggregate expressions"),
        ("SELECT Owner.Profile.Name FROM Lead", None, "INVALID_FIELD", "relationship 'Profile'"),
        (
            "SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Lead "
            "GROUP BY CALENDAR_YEAR(CreatedDate)",
            None,
            "MALFORMED_QUERY",
            "",
        ),
        (
            "SELECT LeadSource, COUNT(Id) FROM Lead GROUP BY ROLLUP(LeadSource)",
            None,
            "MALFORMED_QUERY",
            "",
        ),
        ("SELECT FORMAT(AnnualRevenue) FROM Lead", None, "MALFORMED_QUERY", ""),
        ("SELECT toLabel(Status) FROM Lead", None, "MALFORMED_QUERY", ""),
    ],
)
def test_refusals(soql: str, bulk: str | None, code: str, words: str) -> None:
    with pytest.raises(SoqlError) as error:
        compile_(soql, bulk)
    assert error.value.error_code == code
    assert words in error.value.message


def test_fields_standard_in_bulk_leaves_compound_fields_out() -> None:
    rest = compile_("SELECT FIELDS(STANDARD) FROM Contact")
    bulk = compile_("SELECT FIELDS(STANDARD) FROM Contact", "bulk2")
    assert "MailingAddress" in rest.columns
    assert "MailingAddress" not in bulk.columns
    assert "MailingCity" in bulk.columns
