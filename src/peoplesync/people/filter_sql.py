"""Checked person filters compiled to SQL (the People list, segment counts, exports); the
pure reading on a Person is in ``person_filter``, and tests compare both."""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa

from peoplesync.people.person_filter import Checked, Kind, Op
from peoplesync.people.tables import person_emails, person_phones, persons


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _stored(value: Any, kind: Kind) -> Any:
    """A parsed value in the form the column holds (ISO text for dates in JSON...)."""
    if kind is Kind.DATE:
        return value.isoformat()
    return value


def _contact(condition: Checked) -> sa.ColumnElement[bool]:
    table, column = (
        (person_emails, person_emails.c.email_key)
        if condition.field == "email"
        else (person_phones, person_phones.c.number)
    )
    exists = sa.select(sa.literal(1)).where(table.c.person_id == persons.c.id)
    if condition.op is Op.EMPTY:
        return ~exists.exists()
    if condition.op is Op.NOT_EMPTY:
        return exists.exists()
    if condition.op is Op.EQUALS:  # email keys are lower-case, phones E.164: both indexed
        owners = sa.select(table.c.person_id).where(column == condition.value)
        return persons.c.id.in_(owners)
    return exists.where(sa.func.lower(column).like(_like(condition.value), escape="\\")).exists()


def _custom_clause(condition: Checked, dialect: str) -> sa.ColumnElement[bool]:
    element = persons.c.attributes[condition.field]
    text = element.as_string()
    if condition.op is Op.EMPTY:
        return sa.or_(text.is_(None), text.in_(["", "[]"]))
    if condition.op is Op.NOT_EMPTY:
        return sa.and_(text.is_not(None), text.not_in(["", "[]"]))
    kind, want = condition.kind, condition.value
    if kind is Kind.TEXT:
        lowered = sa.func.lower(text)
        if condition.op is Op.CONTAINS:
            return lowered.like(_like(want), escape="\\")
        return _ordered(Op.EQUALS, lowered, want)
    if kind is Kind.LIST:  # the JSON text of the list holds the item as a JSON string
        return sa.func.lower(text).like(_like(json.dumps(want)), escape="\\")
    if kind is Kind.BOOLEAN:
        return _ordered(Op.EQUALS, element.as_boolean(), want)
    if kind is Kind.NUMBER:
        number: sa.ColumnElement[Any] = (
            sa.cast(text, sa.Numeric) if dialect == "postgresql" else sa.cast(text, sa.Float)
        )
        return _ordered(condition.op, number, want if dialect == "postgresql" else float(want))
    if kind is Kind.DATETIME:
        return _ordered(condition.op, text, want.astimezone(UTC).isoformat())
    return _ordered(condition.op, text, _stored(want, kind))


def _ordered(op: Op, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    compare = {
        Op.EQUALS: operator.eq,
        Op.GT: operator.gt,
        Op.GTE: operator.ge,
        Op.LT: operator.lt,
        Op.LTE: operator.le,
    }[op]
    clause: sa.ColumnElement[bool] = compare(column, value)
    return clause


def _standard_clause(condition: Checked) -> sa.ColumnElement[bool]:
    column = persons.c[condition.field]
    if condition.op is Op.EMPTY:
        return column.is_(None)
    if condition.op is Op.NOT_EMPTY:
        return column.is_not(None)
    if condition.kind is Kind.TEXT:
        lowered = sa.func.lower(column)
        if condition.op is Op.CONTAINS:
            return lowered.like(_like(condition.value), escape="\\")
        return _ordered(Op.EQUALS, lowered, condition.value)
    return _ordered(condition.op, column, _stored(condition.value, condition.kind))


def where_clause(conditions: Sequence[Checked], dialect: str) -> sa.ColumnElement[bool] | None:
    """The conditions as one SQL condition on ``persons`` (None when there are none)."""
    parts: list[sa.ColumnElement[bool]] = []
    for condition in conditions:
        if condition.kind is Kind.CONTACT:
            parts.append(_contact(condition))
        elif condition.custom:
            parts.append(_custom_clause(condition, dialect))
        else:
            parts.append(_standard_clause(condition))
    return sa.and_(*parts) if parts else None


__all__ = ["where_clause"]
