"""Attribute typing and domain normalisation (pure)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peoplesync.errors import AttributeTypeError, ValidationError
from peoplesync.people.attribute import (
    AttributeType,
    coerce_standard,
    coerce_value,
    decode_value,
)
from peoplesync.people.domain_name import normalise_domain

typed_values = st.one_of(
    st.tuples(st.just(AttributeType.TEXT), st.text()),
    st.tuples(st.just(AttributeType.NUMBER), st.integers(-(10**15), 10**15)),
    st.tuples(
        st.just(AttributeType.DECIMAL),
        st.decimals(
            allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
        ),
    ),
    st.tuples(st.just(AttributeType.BOOLEAN), st.booleans()),
    st.tuples(st.just(AttributeType.DATE), st.dates()),
    st.tuples(
        st.just(AttributeType.DATETIME),
        st.datetimes(timezones=st.just(UTC), min_value=datetime(1900, 1, 1)),
    ),
    st.tuples(st.just(AttributeType.LIST), st.lists(st.text(), max_size=5)),
)


@given(typed_values)
def test_values_round_trip_through_storage(pair: tuple[AttributeType, object]) -> None:
    kind, value = pair
    stored = coerce_value(kind, value, field="x")
    json.dumps(stored)  # storable as JSON on both databases
    assert decode_value(kind, json.loads(json.dumps(stored))) == value
    assert coerce_value(kind, stored, field="x") == stored  # stored form is accepted again


@given(typed_values, typed_values)
def test_values_of_another_type_are_rejected(
    a: tuple[AttributeType, object], b: tuple[AttributeType, object]
) -> None:
    kind, _ = a
    other_kind, value = b
    try:
        coerce_value(kind, value, field="attr", record="r9")
    except AttributeTypeError as error:
        assert error.field == "attr" and error.record == "r9"
        assert kind.value in str(error)
        assert other_kind is not kind


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (AttributeType.NUMBER, " 12 ", 12),
        (AttributeType.NUMBER, 3.0, 3),
        (AttributeType.DECIMAL, 1.25, "1.25"),
        (AttributeType.BOOLEAN, "No", False),
        (AttributeType.DATE, "2024-02-29", "2024-02-29"),
        (AttributeType.DATETIME, "2024-01-01T10:00:00Z", "2024-01-01T10:00:00+00:00"),
    ],
)
def test_text_forms_are_accepted(kind: AttributeType, raw: object, stored: object) -> None:
    assert coerce_value(kind, raw, field="f") == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (AttributeType.NUMBER, 1.5),
        (AttributeType.NUMBER, False),
        (AttributeType.DECIMAL, "NaN"),
        (AttributeType.DATE, datetime(2024, 1, 1, tzinfo=UTC)),
        (AttributeType.DATETIME, "2024-01-01T10:00:00"),
        (AttributeType.LIST, ["a", 1]),
        (AttributeType.TEXT, 5),
        (AttributeType.BOOLEAN, "maybe"),
    ],
)
def test_wrong_types_fail_with_a_hint(kind: AttributeType, raw: object) -> None:
    with pytest.raises(AttributeTypeError) as caught:
        coerce_value(kind, raw, field="f")
    assert "how to fix" in str(caught.value)


def test_decimal_keeps_precision() -> None:
    assert decode_value(
        AttributeType.DECIMAL, coerce_value(AttributeType.DECIMAL, "0.1", field="f")
    ) == Decimal("0.1")
    assert decode_value(AttributeType.DATE, "2024-01-02") == date(2024, 1, 2)


@pytest.mark.parametrize(
    "raw",
    [
        "acme.com",
        "https://www.acme.com/",
        "HTTP://WWW.ACME.COM/about?x=1",
        "www.acme.com:8080",
        "sales@ACME.com",
        " acme.com. ",
    ],
)
def test_domains_normalise(raw: str) -> None:
    assert normalise_domain(raw) == "acme.com"


@given(st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){1,3}", fullmatch=True))
def test_domain_normalisation_is_idempotent(host: str) -> None:
    once = normalise_domain(f"https://www.{host}/path")
    assert once is not None and normalise_domain(once) == once


TODAY = date(2026, 3, 15)


@pytest.mark.parametrize("born", ["2026-03-15", "2026-03-16", "1990-05-31", "1800-01-01"])
def test_plausible_birth_dates_are_kept(born: str) -> None:
    assert coerce_standard("birth_date", born, record="row 2", today=TODAY) == born


@pytest.mark.parametrize(
    ("born", "words"),
    [("2099-01-01", "in the future"), ("2026-03-17", "in the future"), ("1799-12-31", "1800")],
)
def test_implausible_birth_dates_name_record_and_field(born: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        coerce_standard("birth_date", born, record="row 2", today=TODAY)
    assert caught.value.record == "row 2" and caught.value.field == "birth_date"
    assert words in caught.value.detail and born in caught.value.detail
    assert caught.value.hint
