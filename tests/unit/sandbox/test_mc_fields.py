"""The Marketing Cloud sandbox's field checks and ``$filter`` parsing."""

from __future__ import annotations

import pytest

from peoplesync.sandbox.marketing_cloud.fields import (
    FieldProblem,
    check_definition,
    check_row,
    matches,
    parse_filter,
)

FIELDS = [
    check_definition({"name": "Key", "type": "Text", "length": 10, "isPrimaryKey": True}),
    check_definition({"name": "Count", "type": "Number", "defaultValue": "1"}),
    check_definition({"name": "When", "type": "Date"}),
    check_definition({"name": "Ok", "type": "Boolean"}),
    check_definition({"name": "Need", "type": "Text", "isNullable": False, "length": 5}),
]


def test_check_row_canonical_names_and_defaults() -> None:
    pk, row = check_row(FIELDS, {"key": "a", "need": "x", "OK": "true"}, insert=True)
    assert pk == "a"
    assert row == {"Key": "a", "Need": "x", "Ok": "true", "Count": "1"}


@pytest.mark.parametrize(
    ("values", "code", "words"),
    [
        ({"Key": "a", "Need": "x", "Count": "two"}, 10001, "not a valid number"),
        ({"Key": "a", "Need": "x", "When": "tuesday"}, 10003, "not a valid date"),
        ({"Key": "a", "Need": "toolong"}, 10005, "too long"),
        ({"Key": "a"}, 10002, "required"),
        ({"Need": "x"}, 10000, "Primary key 'key' does not exist."),
        ({"Key": "a", "Need": "x", "Extra": "1"}, 10000, "Column 'extra' does not exist."),
    ],
)
def test_check_row_refusals(values: dict[str, object], code: int, words: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        check_row(FIELDS, values, insert=True)
    assert raised.value.code == code and words in raised.value.message


def test_definition_refusals() -> None:
    with pytest.raises(FieldProblem):
        check_definition({"name": "x", "type": "Colour"})
    with pytest.raises(FieldProblem):
        check_definition({"name": "k", "type": "Text", "isPrimaryKey": True})


def test_filter_parse_and_match() -> None:
    clauses = parse_filter("Key eq 'O''Hara' and Ok ne 'true'")
    assert clauses == [("key", "eq", "O'Hara"), ("ok", "ne", "true")]
    assert matches({"Key": "O'Hara", "Ok": "false"}, clauses)
    assert not matches({"Key": "O'Hara", "Ok": "true"}, clauses)
    with pytest.raises(ValueError, match="like"):
        parse_filter("Key like 'a%'")
