"""SOQL is built only here: values are quoted, names are checked, user filters are guarded.

``soql("SELECT Id FROM {:name} WHERE Email IN {} AND SystemModstamp >= {}", "Lead", emails, since)``
quotes every ``{}`` value as a SOQL literal and accepts a ``{:name}`` argument only when it is
a plain API name. ``guard_where`` checks a condition typed by a user so that it cannot leave
the WHERE clause it is put in.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from peoplesync.errors import ValidationError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    '"': '\\"',
}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}
# str.translate tables (one pass in C instead of a dict look-up a character).
_TRANSLATE = str.maketrans(_ESCAPES)
_TRANSLATE_LIKE = str.maketrans({**_ESCAPES, **_LIKE_ESCAPES})
_CLAUSE_KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "limit",
        "offset",
        "order",
        "group",
        "having",
        "for",
        "with",
        "using",
        "typeof",
    }
)


class SoqlFormatError(ValidationError):
    """A value or name cannot be put into SOQL safely."""

    code = "INVALID_SOQL"


def quote_string(text: str, *, like: bool = False) -> str:
    """A SOQL string literal; with ``like``, % and _ match themselves."""
    return "'" + text.translate(_TRANSLATE_LIKE if like else _TRANSLATE) + "'"


def literal(value: Any) -> str:
    """``value`` as a SOQL literal (strings, numbers, booleans, null, dates, datetimes, lists)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SoqlFormatError(f"{value} has no SOQL form", field="value")
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SoqlFormatError("a datetime needs a timezone", field="value")
        moment = value.astimezone(UTC)
        fraction = f".{moment.microsecond // 1000:03d}" if moment.microsecond else ""
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = [literal(v) for v in value]
        if not items:
            raise SoqlFormatError("an empty list cannot follow IN", field="value")
        return "(" + ", ".join(items) + ")"
    raise SoqlFormatError(f"{type(value).__name__} has no SOQL form", field="value")


def name(value: str) -> str:
    """``value`` when it is a plain API name (``Email``, ``Account.Name``, ``Score__c``)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise SoqlFormatError(f"{value!r} is not an API name", field="name")
    return value


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "name":
            return name(value)
        if format_spec == "names":
            return ", ".join(name(v) for v in value)
        if format_spec == "like":
            return quote_string(value, like=True)
        if format_spec:
            raise SoqlFormatError(f"unknown placeholder format {format_spec!r}", field="template")
        return literal(value)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            raise SoqlFormatError("conversions are not allowed in SOQL templates", field="template")
        return value


_FORMATTER = _Formatter()


def soql(template: str, *args: Any, **kwargs: Any) -> str:
    """Fill a SOQL template: ``{}`` values are quoted, ``{:name}`` names are checked."""
    return _FORMATTER.vformat(template, args, kwargs)


_TOKEN = re.compile(
    r"""\s+|'(?:[^'\\]|\\.)*'|\(|\)|,|[<>!=]=?|[A-Za-z_][A-Za-z0-9_.:]*|[-+]?[0-9][0-9.:TZ+-]*|(?P<bad>.)""",
    re.DOTALL,
)


def guard_where(condition: str, *, record: str | None = None) -> str:
    """Return ``condition`` stripped when it can only be a WHERE condition; raise otherwise.

    Quotes must close, parentheses must balance, and no clause keyword (LIMIT, ORDER BY,
    a sub-select...) may appear outside a string. Salesforce itself then validates the
    condition (the caller runs it with LIMIT 1).
    """
    text = condition.strip()
    if not text:
        raise SoqlFormatError("the condition is empty", record=record, field="filter")
    depth = 0
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.group("bad") is not None:
            char = text[position]
            raise SoqlFormatError(
                f"unexpected {char!r} at character {position + 1}",
                record=record,
                field="filter",
                hint="close every quote and use only fields, operators and literals",
            )
        piece = match.group(0)
        if piece == "(":
            depth += 1
        elif piece == ")":
            depth -= 1
            if depth < 0:
                raise SoqlFormatError("a ')' closes nothing", record=record, field="filter")
        elif piece.lower() in _CLAUSE_KEYWORDS:
            raise SoqlFormatError(
                f"{piece.upper()} cannot appear in a filter condition",
                record=record,
                field="filter",
                hint="write only the condition that follows WHERE",
            )
        position = match.end()
    if depth:
        raise SoqlFormatError("a '(' is never closed", record=record, field="filter")
    return text


_OPERATORS = frozenset(
    {"=", "!=", "<", "<=", ">", ">=", "like", "in", "not", "includes", "excludes"}
)
_LOGIC = frozenset({"and", "or", "not"})


def condition_fields(condition: str) -> list[str]:
    """The field names a WHERE condition compares (``Account.Name`` as written), in order.

    A name is a field when an operator follows it (``Country = 'x'``, ``Id NOT IN (...)``)
    or when it is a function's first argument (``CALENDAR_YEAR(CreatedDate) = 2024``); values
    (strings, numbers, date literals such as ``LAST_N_DAYS:30``) come after operators.
    """
    pieces = [
        match.group(0)
        for match in _TOKEN.finditer(guard_where(condition))
        if not match.group(0).isspace()
    ]
    found: list[str] = []
    for index, piece in enumerate(pieces):
        if not _NAME.fullmatch(piece) or piece.lower() in _LOGIC:
            continue
        after = pieces[index + 1].lower() if index + 1 < len(pieces) else ""
        in_call = (
            index >= 2
            and pieces[index - 1] == "("
            and _NAME.fullmatch(pieces[index - 2]) is not None
            and pieces[index - 2].lower() not in _LOGIC | _OPERATORS
        )
        if (after in _OPERATORS or in_call) and piece not in found:
            found.append(piece)
    return found


def select(
    sobject: str,
    fields: Sequence[str],
    *,
    where: str | None = None,
    order_by: str | None = None,
    limit: int | None = None,
) -> str:
    """A SELECT statement from checked parts (``where`` must come from ``soql``/``guard_where``)."""
    query = soql("SELECT {:names} FROM {:name}", list(fields), sobject)
    if where:
        query += f" WHERE {where}"
    if order_by:
        query += f" ORDER BY {order_by}"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return query
