"""Data extension fields as the sandbox checks them: names without case, types, lengths."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TYPES = ("Text", "Number", "Decimal", "Date", "Boolean", "EmailAddress", "Phone", "Locale")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BOOLEAN = {"true", "false", "1", "0", "yes", "no", "y", "n"}
_DEFAULT_LENGTH = {"Text": 4000, "EmailAddress": 254, "Phone": 50, "Locale": 5}


class FieldProblem(Exception):
    """One value a data extension refuses: its message and Marketing Cloud error code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def check_definition(field: Mapping[str, Any]) -> dict[str, Any]:
    """A field definition as stored, or ``FieldProblem`` for a bad one."""
    name = str(field.get("name") or "").strip()
    kind = str(field.get("type") or "Text")
    if not name:
        raise FieldProblem("Field name is required.", 10002)
    if kind not in TYPES:
        raise FieldProblem(f"Field {name}: type {kind} is not a valid field type.", 10005)
    key = bool(field.get("isPrimaryKey", False))
    length = field.get("length")
    if kind == "Text" and key and length is None:
        raise FieldProblem(f"Field {name}: a primary key text field needs a length.", 10002)
    return {
        "name": name,
        "type": kind,
        "isPrimaryKey": key,
        "isNullable": bool(field.get("isNullable", True)) and not key,
        "length": int(length) if length is not None else _DEFAULT_LENGTH.get(kind),
        "scale": field.get("scale"),
        "defaultValue": field.get("defaultValue"),
    }


def _value(field: Mapping[str, Any], raw: object) -> str | None:
    name, kind = field["name"], field["type"]
    if raw is None or raw == "":
        return None
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    length = field.get("length")
    if kind in ("Text", "Phone", "EmailAddress", "Locale") and length and len(text) > length:
        raise FieldProblem(
            f"{name}: The value for column [{name}] is too long. Maximum length is {length}.",
            10005,
        )
    if kind == "Number" and not re.fullmatch(r"-?\d+", text):
        raise FieldProblem(f"{name}: The value for column [{name}] is not a valid number.", 10001)
    if kind == "Decimal":
        try:
            Decimal(text)
        except InvalidOperation:
            raise FieldProblem(
                f"{name}: The value for column [{name}] is not a valid decimal.", 10001
            ) from None
    if kind == "Boolean" and text.lower() not in _BOOLEAN:
        raise FieldProblem(f"{name}: The value for column [{name}] is not a valid boolean.", 10001)
    if kind == "Date":
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise FieldProblem(
                f"{name}: The value for column [{name}] is not a valid date.", 10003
            ) from None
    if kind == "EmailAddress" and not _EMAIL.match(text):
        raise FieldProblem(
            f"{name}: The value for column [{name}] is not a valid email address. "
            "Parse error [InvalidEmailAddress]",
            10000,
        )
    return text


def by_lower_name(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fields by lower-cased name, to check many rows with."""
    return {field["name"].lower(): field for field in fields}


def check_row(
    fields: list[dict[str, Any]],
    values: Mapping[str, object],
    *,
    insert: bool,
    by_name: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[str, dict[str, str | None]]:
    """``(primary key text, row by field name)`` for one row, or ``FieldProblem``."""
    by_name = by_name if by_name is not None else by_lower_name(fields)
    row: dict[str, str | None] = {}
    for given, raw in values.items():
        field = by_name.get(given.lower())
        if field is None:
            raise FieldProblem(f"Column '{given.lower()}' does not exist.", 10000)
        row[field["name"]] = _value(field, raw)
    keys = [field for field in fields if field["isPrimaryKey"]]
    for field in keys:
        if row.get(field["name"]) is None:
            raise FieldProblem(f"Primary key '{field['name'].lower()}' does not exist.", 10000)
    if insert:
        for field in fields:
            if field["name"] not in row and field.get("defaultValue") is not None:
                row[field["name"]] = str(field["defaultValue"])
            if not field["isNullable"] and row.get(field["name"]) is None:
                raise FieldProblem(f"{field['name']}: The field is required.", 10002)
    pk = "\x1f".join(str(row[field["name"]]) for field in keys) if keys else ""
    return pk, row


_CLAUSE = re.compile(r"\s*([A-Za-z0-9_ ]+?)\s+(eq|ne)\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)


def parse_filter(text: str) -> list[tuple[str, str, str]]:
    """``Field eq 'x' and Other ne 'y'`` as ``[(field, op, value)]``; ValueError if not that."""
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        found = _CLAUSE.fullmatch(part)
        if found is None:
            raise ValueError(part)
        clauses.append((found[1].lower(), found[2].lower(), found[3].replace("''", "'")))
    return clauses


def matches(row: Mapping[str, object], clauses: list[tuple[str, str, str]]) -> bool:
    lowered = {name.lower(): value for name, value in row.items()}
    for name, op, value in clauses:
        equal = str(lowered.get(name) or "") == value
        if equal != (op == "eq"):
            return False
    return True
