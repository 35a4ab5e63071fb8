"""Attributes of a person: the standard catalogue, custom definitions and typed values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from peoplesync.errors import AttributeTypeError, ValidationError


class AttributeType(StrEnum):
    """The value types a custom attribute can have."""

    TEXT = "text"
    NUMBER = "number"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    """A custom attribute: its name, value type and whether every person must have it."""

    name: str
    type: AttributeType
    mandatory: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class StandardAttribute:
    """A built-in person attribute stored in its own column."""

    name: str
    type: AttributeType
    max_length: int | None = None


STANDARD_ATTRIBUTES: dict[str, StandardAttribute] = {
    a.name: a
    for a in (
        StandardAttribute("first_name", AttributeType.TEXT, 255),
        StandardAttribute("last_name", AttributeType.TEXT, 255),
        StandardAttribute("company", AttributeType.TEXT, 255),
        StandardAttribute("title", AttributeType.TEXT, 255),
        StandardAttribute("country", AttributeType.TEXT, 100),
        StandardAttribute("city", AttributeType.TEXT, 100),
        StandardAttribute("address", AttributeType.TEXT, 1000),
        StandardAttribute("gender", AttributeType.TEXT, 20),
        StandardAttribute("birth_date", AttributeType.DATE),
        StandardAttribute("preferred_language", AttributeType.TEXT, 35),
        StandardAttribute("lead_source", AttributeType.TEXT, 255),
        StandardAttribute("status", AttributeType.TEXT, 255),
    )
}
GENDERS = frozenset({"female", "male", "other", "unknown"})
RESERVED_NAMES = frozenset(STANDARD_ATTRIBUTES) | {
    "id",
    "emails",
    "phones",
    "email",
    "phone",
    "company_id",
    "created_at",
    "updated_at",
    "version",
}
# Birth dates before this are taken for typing mistakes (historical persons still fit).
EARLIEST_BIRTH_DATE = date(1800, 1, 1)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})


def check_attribute_name(name: str) -> None:
    """Raise ValidationError unless ``name`` can name a new custom attribute."""
    if not _NAME.fullmatch(name):
        raise ValidationError(
            "a name starts with a letter and has only letters, digits and _ (at most 63)",
            record=f"attribute {name!r}",
            field="name",
        )
    if name.lower() in RESERVED_NAMES:
        raise ValidationError(
            "this name belongs to a standard attribute", record=f"attribute {name!r}", field="name"
        )


def _fail(kind: AttributeType, value: object, record: str | None, field: str) -> AttributeTypeError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return AttributeTypeError(
        f"expected a {kind.value} value, got {shown}",
        record=record,
        field=field,
        hint=f"give a {kind.value} value ({_EXAMPLES[kind]})",
    )


_EXAMPLES = {
    AttributeType.TEXT: '"some text"',
    AttributeType.NUMBER: "a whole number like 42",
    AttributeType.DECIMAL: 'a number like 12.50 or "12.50"',
    AttributeType.BOOLEAN: "true or false",
    AttributeType.DATE: '"2024-05-31"',
    AttributeType.DATETIME: '"2024-05-31T12:00:00Z" with a timezone',
    AttributeType.LIST: '["a", "b"]',
}


def coerce_value(
    kind: AttributeType, value: object, *, record: str | None = None, field: str
) -> object:
    """Check ``value`` against ``kind``; return it in stored (JSON-safe) form."""
    if value is None:
        return None
    if kind is AttributeType.TEXT:
        if isinstance(value, str):
            return value
    elif kind is AttributeType.NUMBER:
        if isinstance(value, bool):
            raise _fail(kind, value, record, field)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
            return int(value)
    elif kind is AttributeType.DECIMAL:
        if isinstance(value, bool):
            raise _fail(kind, value, record, field)
        if isinstance(value, int | float | Decimal | str):
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise _fail(kind, value, record, field) from None
            if number.is_finite():
                return str(number)
    elif kind is AttributeType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif kind is AttributeType.DATE:
        if isinstance(value, datetime):
            raise _fail(kind, value, record, field)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
    elif kind is AttributeType.DATETIME:
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(UTC).isoformat()
    elif (
        kind is AttributeType.LIST
        and isinstance(value, list | tuple)
        and all(isinstance(item, str) for item in value)
    ):
        return list(value)
    raise _fail(kind, value, record, field)


def decode_value(kind: AttributeType, stored: object) -> object:
    """Turn a stored value back into its Python type (Decimal, date, datetime)."""
    if stored is None:
        return None
    if kind is AttributeType.DECIMAL:
        return Decimal(str(stored))
    if kind is AttributeType.DATE:
        return date.fromisoformat(str(stored))
    if kind is AttributeType.DATETIME:
        return datetime.fromisoformat(str(stored))
    if kind is AttributeType.LIST:
        return list(stored) if isinstance(stored, list) else stored
    return stored


def check_birth_date(stored: str, *, record: str | None, today: date) -> None:
    """Raise ValidationError for a birth date (ISO text) after ``today`` or before 1800."""
    born = date.fromisoformat(stored)
    if born > today + timedelta(days=1):  # a day's slack: it is already tomorrow east of UTC
        raise ValidationError(
            f"{stored} is in the future (today is {today.isoformat()})",
            record=record,
            field="birth_date",
            hint="give the date the person was born, like 1990-05-31 (year first)",
        )
    if born < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            f"{stored} is before {EARLIEST_BIRTH_DATE.isoformat()}, which is not plausible",
            record=record,
            field="birth_date",
            hint="check the year; give the date like 1990-05-31 (year first)",
        )


def coerce_standard(name: str, value: object, *, record: str | None, today: date) -> object:
    """Check a standard attribute's value (``today`` bounds a birth date); returns the value
    to store."""
    spec = STANDARD_ATTRIBUTES[name]
    if type(value) is str and spec.type is AttributeType.TEXT:
        stored: object = value  # what coerce_value returns for text
    else:
        stored = coerce_value(spec.type, value, record=record, field=name)
    if name == "birth_date" and isinstance(stored, str):
        check_birth_date(stored, record=record, today=today)
    if isinstance(stored, str) and spec.type is AttributeType.TEXT:
        stored = stored.strip() or None
        if stored is not None and spec.max_length is not None and len(stored) > spec.max_length:
            raise ValidationError(
                f"is {len(stored)} characters long, at most {spec.max_length} are allowed",
                record=record,
                field=name,
                hint="shorten the value",
            )
        if name == "gender" and stored is not None:
            stored = stored.lower()
            if stored not in GENDERS:
                raise ValidationError(
                    f"{value!r} is not one of {', '.join(sorted(GENDERS))}",
                    record=record,
                    field=name,
                )
    return stored
