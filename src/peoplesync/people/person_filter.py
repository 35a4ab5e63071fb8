"""Attribute filters on persons: parsed and checked once, then either compiled to SQL (the
People list, segment counts, exports: ``filter_sql``) or evaluated on a Person (pure;
outbound segment membership). Both readings agree: tests compare them on the same persons.

A condition names a field (a standard attribute, a custom attribute, ``email``, ``phone``,
``created_at`` or ``updated_at``), an operator and a value. Text compares without regard to
case; numbers, dates and datetimes also compare greater / less.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from peoplesync.errors import ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.people.model import Person

MAX_CONDITIONS = 20


class Op(StrEnum):
    """What a condition checks."""

    EQUALS = "equals"
    CONTAINS = "contains"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


class Kind(StrEnum):
    """How a field's values compare."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    LIST = "list"
    CONTACT = "contact"  # emails and phones: any of the person's addresses or numbers


_ORDERED = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
_ALWAYS = frozenset({Op.EMPTY, Op.NOT_EMPTY})
OPS_BY_KIND: dict[Kind, frozenset[Op]] = {
    Kind.TEXT: _ALWAYS | {Op.EQUALS, Op.CONTAINS},
    Kind.CONTACT: _ALWAYS | {Op.EQUALS, Op.CONTAINS},
    Kind.LIST: _ALWAYS | {Op.CONTAINS},
    Kind.BOOLEAN: _ALWAYS | {Op.EQUALS},
    Kind.NUMBER: _ALWAYS | _ORDERED | {Op.EQUALS},
    Kind.DATE: _ALWAYS | _ORDERED | {Op.EQUALS},
    Kind.DATETIME: _ALWAYS | _ORDERED | {Op.EQUALS},
}
_KIND_OF_TYPE = {
    AttributeType.TEXT: Kind.TEXT,
    AttributeType.NUMBER: Kind.NUMBER,
    AttributeType.DECIMAL: Kind.NUMBER,
    AttributeType.BOOLEAN: Kind.BOOLEAN,
    AttributeType.DATE: Kind.DATE,
    AttributeType.DATETIME: Kind.DATETIME,
    AttributeType.LIST: Kind.LIST,
}
SPECIAL_FIELDS: dict[str, Kind] = {
    "email": Kind.CONTACT,
    "phone": Kind.CONTACT,
    "created_at": Kind.DATETIME,
    "updated_at": Kind.DATETIME,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition as a user or a stored segment gives it (unchecked)."""

    field: str
    op: str
    value: str = ""

    def json(self) -> dict[str, str]:
        """The condition as stored in a segment and shown by the API."""
        return {"field": self.field, "op": self.op, "value": self.value}


@dataclass(frozen=True, slots=True)
class Checked:
    """A condition whose field exists, whose operator fits, and whose value is parsed."""

    field: str
    kind: Kind
    op: Op
    value: Any  # str (lower-cased), Decimal, date, datetime or bool; None for empty checks
    custom: bool


def field_kinds(definitions: Mapping[str, AttributeDefinition]) -> dict[str, Kind]:
    """Every field a condition may name, with how it compares."""
    kinds = {name: _KIND_OF_TYPE[spec.type] for name, spec in STANDARD_ATTRIBUTES.items()}
    kinds |= SPECIAL_FIELDS
    kinds |= {name: _KIND_OF_TYPE[d.type] for name, d in definitions.items()}
    return kinds


def _bad(message: str, index: int, part: str, hint: str = "") -> ValidationError:
    return ValidationError(message, record="filter", field=f"filters[{index}].{part}", hint=hint)


def _parse(kind: Kind, text: str, index: int) -> Any:
    raw = text.strip()
    try:
        if kind is Kind.NUMBER:
            number = Decimal(raw)
            if not number.is_finite():
                raise InvalidOperation
            if math.isinf(float(number)):  # e.g. 1e400: stored numbers compare as doubles
                raise _bad(
                    f"{raw!r} is too large a number to compare with",
                    index,
                    "value",
                    "give a finite number between -1e308 and 1e308",
                )
            return number
        if kind is Kind.DATE:
            return date.fromisoformat(raw)
        if kind is Kind.DATETIME:
            moment = datetime.fromisoformat(raw)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (InvalidOperation, ValueError):
        example = {Kind.NUMBER: "42 or 12.5", Kind.DATE: "2024-05-31"}.get(
            kind, "2024-05-31T12:00:00Z"
        )
        raise _bad(
            f"{raw!r} is not a {kind.value}", index, "value", f"give e.g. {example}"
        ) from None
    if kind is Kind.BOOLEAN:
        if raw.lower() in {"true", "yes", "1"}:
            return True
        if raw.lower() in {"false", "no", "0"}:
            return False
        raise _bad(f"{raw!r} is not true or false", index, "value")
    if not raw:
        raise _bad("give a value to compare with", index, "value")
    return raw.lower()


def check_conditions(
    conditions: Sequence[Condition], definitions: Mapping[str, AttributeDefinition]
) -> list[Checked]:
    """Check every condition; ValidationError names the first bad one
    (``filters[2].op``...)."""
    if len(conditions) > MAX_CONDITIONS:
        raise _bad(f"at most {MAX_CONDITIONS} conditions", MAX_CONDITIONS, "field")
    kinds = field_kinds(definitions)
    checked: list[Checked] = []
    for index, condition in enumerate(conditions):
        kind = kinds.get(condition.field)
        if kind is None:
            raise _bad(
                f"{condition.field!r} is not an attribute",
                index,
                "field",
                "pick a standard or custom attribute, email or phone",
            )
        try:
            op = Op(condition.op)
        except ValueError:
            raise _bad(
                f"{condition.op!r} is not an operator", index, "op", ", ".join(o.value for o in Op)
            ) from None
        if op not in OPS_BY_KIND[kind]:
            allowed = ", ".join(sorted(o.value for o in OPS_BY_KIND[kind]))
            raise _bad(f"{op.value!r} does not apply to {kind.value} values", index, "op", allowed)
        value = None if op in _ALWAYS else _parse(kind, condition.value, index)
        custom = condition.field in definitions
        checked.append(Checked(condition.field, kind, op, value, custom))
    return checked


# --- pure evaluation -------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _compare(op: Op, have: Any, want: Any) -> bool:
    if op is Op.EQUALS:
        return bool(have == want)
    if op is Op.GT:
        return bool(have > want)
    if op is Op.GTE:
        return bool(have >= want)
    if op is Op.LT:
        return bool(have < want)
    return bool(have <= want)


def _typed(kind: Kind, value: Any) -> Any:
    if kind is Kind.NUMBER:
        return Decimal(str(value))
    if kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is Kind.DATETIME and isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _holds(condition: Checked, person: Person) -> bool:
    if condition.field == "email":
        value: Any = list(person.emails)
    elif condition.field == "phone":
        value = list(person.phones)
    elif condition.field in ("created_at", "updated_at"):
        value = getattr(person, condition.field)
    else:
        value = person.get(condition.field)
    if condition.op is Op.EMPTY:
        return _empty(value)
    if condition.op is Op.NOT_EMPTY:
        return not _empty(value)
    if _empty(value):
        return False
    want = condition.value
    if condition.kind in (Kind.CONTACT, Kind.LIST):
        items = [str(item).lower() for item in value]
        if condition.op is Op.CONTAINS and condition.kind is Kind.CONTACT:
            return any(want in item for item in items)
        return want in items
    if condition.kind is Kind.TEXT:
        text = str(value).lower()
        return want in text if condition.op is Op.CONTAINS else text == want
    return _compare(condition.op, _typed(condition.kind, value), want)


def matches(person: Person, conditions: Sequence[Checked]) -> bool:
    """Whether the person satisfies every condition (all of them: AND)."""
    return all(_holds(condition, person) for condition in conditions)


def matches_search(person: Person, query: str) -> bool:
    """The People search's prefix rule on one person: first name, last name or any email
    starts with the text ("ada lov" also matches first name Ada, last name Lovelace)."""
    text = " ".join(query.lower().split())
    if not text:
        return True
    first = str(person.get("first_name") or "").lower()
    last = str(person.get("last_name") or "").lower()
    if first.startswith(text) or last.startswith(text):
        return True
    if any(email.lower().startswith(text) for email in person.emails):
        return True
    given, _, family = text.partition(" ")
    return bool(family) and first == given and last.startswith(family)


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A segment's membership rule, checked: its search text and conditions."""

    name: str
    query: str
    conditions: tuple[Checked, ...]

    def admits(self, person: Person) -> bool:
        """Whether the person is in the segment (the same answer as the People list)."""
        return matches_search(person, self.query) and matches(person, self.conditions)


# --- SQL -------------------------------------------------------------------------------------


def parse_conditions(raw: object) -> list[Condition]:
    """Conditions from JSON (a list of {field, op, value}); ValidationError names the part."""
    if not isinstance(raw, list):
        raise ValidationError("expected a list of conditions", record="filter", field="filters")
    found: list[Condition] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _bad("expected {field, op, value}", index, "field")
        values = {}
        for part in ("field", "op", "value"):
            value = item.get(part, "")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise _bad("expected a text value", index, part)
            values[part] = str(value)
        found.append(Condition(values["field"], values["op"], values["value"]))
    return found


def conditions_from_text(filters: Sequence[str]) -> list[Condition]:
    """Conditions of the API's ``filter=field:op:value`` parameters."""
    found: list[Condition] = []
    for index, text in enumerate(filters):
        name, _, rest = text.partition(":")
        op, _, value = rest.partition(":")
        if not name.strip() or not op.strip():
            raise ValidationError(
                "expected field:op:value, e.g. country:equals:UK",
                record="filter",
                field=f"filters[{index}]",
            )
        found.append(Condition(name.strip(), op.strip(), value))
    return found


__all__ = [
    "MAX_CONDITIONS",
    "OPS_BY_KIND",
    "Checked",
    "Condition",
    "Kind",
    "Op",
    "SegmentRule",
    "check_conditions",
    "conditions_from_text",
    "field_kinds",
    "matches",
    "matches_search",
    "parse_conditions",
]
