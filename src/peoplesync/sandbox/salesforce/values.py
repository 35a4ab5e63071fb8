"""Field values coming in (JSON or CSV text) checked and converted to storage form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.schema import FieldMeta
from peoplesync.sandbox.salesforce.soql_compiler import storage_datetime

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
TEXT = frozenset({"string", "textarea", "phone", "url", "combobox", "encryptedstring"})


class FieldError(Exception):
    """One field's value is not acceptable: a Salesforce status code and message."""

    def __init__(self, status_code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field

    def as_error(self) -> dict[str, object]:
        """The ``errors[]`` entry Salesforce returns."""
        return {"statusCode": self.status_code, "message": self.message, "fields": [self.field]}


def _bad_type(meta: FieldMeta, value: object) -> FieldError:
    kind = {"int": "integer", "double": "double", "currency": "double", "percent": "double"}.get(
        meta.type, meta.type
    )
    return (
        FieldError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{meta.name}: value not of required type: {value}",
            meta.name,
        )
        if kind
        else FieldError("JSON_PARSER_ERROR", f"{meta.name}: {value}", meta.name)
    )


def to_storage(meta: FieldMeta, value: Any, *, from_csv: bool = False) -> Any:
    """Check ``value`` for ``meta`` and return what goes in the column."""
    if value is None or (from_csv and value in ("", "#N/A")):
        return None
    kind = meta.type
    if kind == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return int(value.lower() in ("true", "1"))
        raise _bad_type(meta, value)
    if kind == "int":
        if isinstance(value, bool):
            raise _bad_type(meta, value)
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+(\.0*)?", value.strip()):
            return int(float(value))
        raise _bad_type(meta, value)
    if kind in ("double", "currency", "percent"):
        if isinstance(value, bool):
            raise _bad_type(meta, value)
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise _bad_type(meta, value) from None
    if kind == "date":
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise _bad_type(meta, value) from None
    if kind == "datetime":
        try:
            text = str(value).strip().replace("Z", "+00:00")
            if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
                text = text[:-2] + ":" + text[-2:]
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _bad_type(meta, value) from None
        return storage_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool) and kind in TEXT:
            value = str(value)
        else:
            raise _bad_type(meta, value)
    if kind in ("id", "reference"):
        if not is_valid_id(value):
            raise FieldError(
                "MALFORMED_ID", f"{meta.name}: id value of incorrect type: {value}", meta.name
            )
        return to18(value)
    if meta.length and len(value) > meta.length:
        raise FieldError(
            "STRING_TOO_LONG",
            f"{meta.name}: data value too large: {value[:40]}{'...' if len(value) > 40 else ''} "
            f"(max length={meta.length})",
            meta.name,
        )
    if kind == "email" and value and not _EMAIL.fullmatch(value):
        raise FieldError(
            "INVALID_EMAIL_ADDRESS", f"{meta.name}: invalid email address: {value}", meta.name
        )
    if kind in ("picklist", "multipicklist") and meta.restricted_picklist and value:
        allowed = set(meta.picklist_values)
        chosen = value.split(";") if kind == "multipicklist" else [value]
        if any(v not in allowed for v in chosen):
            raise FieldError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{meta.name}: bad value for restricted picklist field: {value}",
                meta.name,
            )
    return value if value != "" else None
