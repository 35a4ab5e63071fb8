"""The SOQL grammar (pure): every construct parses into the expected tree; bad input fails well."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peoplesync.sandbox.salesforce.soql import (
    BoolOp,
    Compare,
    Count,
    InQuery,
    Literal,
    Not,
    Path,
    SoqlError,
    parse,
    unescape,
)
from peoplesync.sandbox.salesforce.soql_dates import date_range


def test_full_statement() -> None:
    query = parse(
        "select Id, Account.Owner.Name from Contact c where (c.Email = 'a@b.com' or not Name like 'x%') "
        "and CreatedDate = LAST_N_DAYS:30 order by Name desc nulls last, Id limit 10 offset 5 for view"
    )
    assert query.sobject == "Contact"
    assert query.alias == "c"
    assert query.select == (Path(("Id",)), Path(("Account", "Owner", "Name")))
    assert isinstance(query.where, BoolOp) and query.where.op == "AND"
    left, right = query.where.items
    assert isinstance(left, BoolOp) and left.op == "OR"
    assert isinstance(left.items[1], Not)
    assert right == Compare(Path(("CreatedDate",)), "=", (Literal("date_n", "LAST_N_DAYS", 30),))
    assert [(str(o.path), o.descending, o.nulls) for o in query.order] == [
        ("Name", True, "last"),
        ("Id", False, None),
    ]
    assert (query.limit, query.offset) == (10, 5)


@pytest.mark.parametrize(
    ("condition", "op", "kinds"),
    [
        ("A = 'x'", "=", ["string"]),
        ("A <> 5", "!=", ["number"]),
        ("A >= 1.5", ">=", ["number"]),
        ("A < 2024-01-31", "<", ["date"]),
        ("A > 2024-01-31T10:00:00.123+02:00", ">", ["datetime"]),
        ("A = TRUE", "=", ["word"]),
        ("A = null", "=", ["word"]),
        ("A IN ('a', 'b')", "IN", ["string", "string"]),
        ("A NOT IN (1, 2)", "NOT IN", ["number", "number"]),
        ("A INCLUDES ('a;b')", "INCLUDES", ["string"]),
        ("A EXCLUDES ('a')", "EXCLUDES", ["string"]),
        ("A LIKE 'x\\_%'", "LIKE", ["string"]),
        ("A = THIS_QUARTER", "=", ["word"]),
    ],
)
def test_comparisons(condition: str, op: str, kinds: list[str]) -> None:
    where = parse(f"SELECT Id FROM Lead WHERE {condition}").where
    assert isinstance(where, Compare)
    assert where.op == op
    assert [v.kind for v in where.values] == kinds


def test_semi_join_and_count() -> None:
    query = parse(
        "SELECT COUNT() FROM Lead WHERE Id NOT IN (SELECT LeadId FROM CampaignMember WHERE Status = 'Sent')"
    )
    assert query.select == (Count(None),)
    assert isinstance(query.where, InQuery)
    assert query.where.negated
    assert query.where.query.sobject == "CampaignMember"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SELECT",
        "SELECT Id",
        "SELECT Id FROM",
        "SELECT Id FROM Lead WHERE",
        "SELECT Id FROM Lead WHERE A =",
        "SELECT Id FROM Lead LIMIT x",
        "SELECT Id, FROM Lead",
        "SELECT Id FROM Lead WHERE A = 'open",
        "DELETE FROM Lead",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(SoqlError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"


def soql_quote(text: str) -> str:
    table = {
        "\\": "\\\\",
        "'": "\\'",
        "\n": "\\n",
        "\t": "\\t",
        "\r": "\\r",
        "\b": "\\b",
        "\f": "\\f",
        '"': '\\"',
    }
    return "".join(table.get(c, c) for c in text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_string_literals_round_trip(text: str) -> None:
    where = parse(f"SELECT Id FROM Lead WHERE Name = '{soql_quote(text)}'").where
    assert isinstance(where, Compare)
    assert unescape(where.values[0].value, keep_like=False) == text


def test_like_escapes_survive_for_sql() -> None:
    assert unescape("100\\%\\_x", keep_like=True) == "100\\%\\_x"
    assert unescape("100\\%", keep_like=False) == "100%"
    assert unescape("\\u00e9", keep_like=False) == "é"
    with pytest.raises(SoqlError):
        unescape("bad\\q", keep_like=False)


NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, date(2026, 11, 24), date(2026, 11, 25)),
        ("YESTERDAY", None, date(2026, 11, 23), date(2026, 11, 24)),
        ("THIS_WEEK", None, date(2026, 11, 22), date(2026, 11, 29)),  # weeks start on Sunday
        ("LAST_MONTH", None, date(2026, 10, 1), date(2026, 11, 1)),
        ("NEXT_MONTH", None, date(2026, 12, 1), date(2027, 1, 1)),
        ("THIS_QUARTER", None, date(2026, 10, 1), date(2027, 1, 1)),
        ("LAST_YEAR", None, date(2025, 1, 1), date(2026, 1, 1)),
        ("LAST_90_DAYS", None, date(2026, 8, 26), date(2026, 11, 25)),
        ("LAST_N_DAYS", 7, date(2026, 11, 17), date(2026, 11, 25)),
        ("NEXT_N_DAYS", 2, date(2026, 11, 25), date(2026, 11, 27)),
        ("N_DAYS_AGO", 3, date(2026, 11, 21), date(2026, 11, 22)),
        ("LAST_N_MONTHS", 2, date(2026, 9, 1), date(2026, 11, 1)),
        ("NEXT_N_YEARS", 1, date(2027, 1, 1), date(2028, 1, 1)),
        ("THIS_FISCAL_YEAR", None, date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_date_constants(name: str, n: int | None, start: date, end: date) -> None:
    assert date_range(name, n, NOW) == (start, end)


def test_unknown_date_constant() -> None:
    with pytest.raises(SoqlError):
        date_range("SOMEDAY", None, NOW)
