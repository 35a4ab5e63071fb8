"""The SOQL formatter: literals, names and guarded WHERE conditions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peoplesync.salesforce.soql import SoqlFormatError, guard_where, literal, select, soql


def unquote(text: str) -> str:
    """Read a SOQL string literal back (the inverse of quoting)."""
    assert text[0] == text[-1] == "'"
    out, i, body = [], 0, text[1:-1]
    table = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
    while i < len(body):
        if body[i] == "\\":
            out.append(table.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            assert body[i] != "'", "an unescaped quote would end the literal"
            out.append(body[i])
            i += 1
    return "".join(out)


@given(st.text())
def test_strings_round_trip_and_never_break_out(text: str) -> None:
    quoted = literal(text)
    assert unquote(quoted) == text
    guard_where(f"Name = {quoted}")  # a quoted value is always a single token


def test_literals() -> None:
    assert literal(None) == "null"
    assert literal(True) == "true"
    assert literal(12) == "12"
    assert literal(Decimal("1.50")) == "1.50"
    assert literal(date(2024, 5, 1)) == "2024-05-01"
    moment = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert literal(moment) == "2024-05-01T12:00:00Z"
    assert literal(datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)) == "2024-05-01T12:00:00.250Z"
    assert literal(["a'b", "c"]) == "('a\\'b', 'c')"
    with pytest.raises(SoqlFormatError):
        literal(datetime(2024, 5, 1))
    with pytest.raises(SoqlFormatError):
        literal([])


def test_templates_quote_values_and_check_names() -> None:
    query = soql(
        "SELECT {:names} FROM {:name} WHERE Email IN {} AND Name LIKE {:like}",
        ["Id", "Account.Name"],
        "Contact",
        ["a@example.com", "o'hara@example.com"],
        "100%_sure",
    )
    assert query == (
        "SELECT Id, Account.Name FROM Contact WHERE Email IN "
        "('a@example.com', 'o\\'hara@example.com') AND Name LIKE '100\\%\\_sure'"
    )
    with pytest.raises(SoqlFormatError):
        soql("SELECT Id FROM {:name}", "Lead WHERE Id != null")
    with pytest.raises(SoqlFormatError):
        soql("SELECT Id FROM Lead WHERE Name = {!r}", "x")
    assert select("Lead", ["Id", "Email"], where="IsDeleted = false", limit=1) == (
        "SELECT Id, Email FROM Lead WHERE IsDeleted = false LIMIT 1"
    )


@pytest.mark.parametrize(
    "condition",
    [
        "Status = 'Open' AND (LeadSource = 'Web' OR LeadSource = 'Phone')",
        "CreatedDate = LAST_N_DAYS:30",
        "Email LIKE '%@example.com' AND Rating__c IN ('Hot', 'Warm')",
        "AnnualRevenue >= 1000000 AND NOT IsConverted = true",
        "Name = 'LIMIT 10) ORDER BY'",
        "LastModifiedDate > 2024-05-01T00:00:00Z",
    ],
)
def test_guard_accepts_conditions(condition: str) -> None:
    assert guard_where(f"  {condition} ") == condition


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("Status = 'Open' LIMIT 1", "LIMIT"),
        ("Status = 'Open') OR (Id != null", "closes nothing"),
        ("(Status = 'Open'", "never closed"),
        ("Name = 'unterminated", "unexpected"),
        ("Id IN (SELECT LeadId FROM CampaignMember)", "SELECT"),
        ("Status = 'Open' ORDER BY Name", "ORDER"),
        ("Status = 'Open'; DELETE", "unexpected"),
        ("", "empty"),
    ],
)
def test_guard_rejects_escapes(condition: str, message: str) -> None:
    with pytest.raises(SoqlFormatError, match=message) as caught:
        guard_where(condition, record="step Lead -> Person")
    assert caught.value.field == "filter"
