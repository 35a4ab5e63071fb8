"""Salesforce record values into People values: conversion by attribute type, nested field
paths (``Account.Name``), and the inbound mapper that applies a step's lines to a record.
Everything here is pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from peoplesync.errors import ConfigurationError, ValidationError
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.sync.inbound.cursor import parse_modstamp
from peoplesync.sync.mapping import FieldMapping, Mode, attribute_type


def from_salesforce(value: Any, kind: AttributeType, *, record: str, field: str) -> Any:
    """A Salesforce JSON value converted for a People attribute of type ``kind``."""
    if value is None or value == "":
        return None
    try:
        if kind is AttributeType.TEXT:
            return (
                str(value).strip()
                if not isinstance(value, bool)
                else ("true" if value else "false")
            )
        if kind is AttributeType.NUMBER:
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if kind is AttributeType.DECIMAL:
            return str(value)
        if kind is AttributeType.BOOLEAN:
            if isinstance(value, bool):
                return value
            raise ValueError(value)
        if kind is AttributeType.DATE:
            return date.fromisoformat(str(value)[:10])
        if kind is AttributeType.DATETIME:
            return parse_modstamp(str(value))
        if kind is AttributeType.LIST:
            return [part for part in str(value).split(";") if part]
    except ValueError:
        raise ValidationError(
            f"{value!r} cannot become a {kind.value} value",
            record=record,
            field=field,
            hint="map the field to an attribute of a matching type, or change the attribute's type",
        ) from None
    raise ValidationError(f"unsupported attribute type {kind}", record=record, field=field)


def read_path(record: Mapping[str, Any], path: str) -> Any:
    """A field value from a query record, following relationship paths (``Account.Name``)."""
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def field_reader(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """``read_path`` for one path, with the path split once instead of on every read."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (name,) = parts

        def read_top(record: Mapping[str, Any]) -> Any:
            return record.get(name) if type(record) is dict else read_path(record, path)

        return read_top

    if len(parts) == 2:
        parent, child = parts

        def read_child(record: Mapping[str, Any]) -> Any:
            related = record.get(parent) if type(record) is dict else read_path(record, parent)
            if type(related) is dict:
                return related.get(child)
            return related.get(child) if isinstance(related, Mapping) else None

        return read_child

    def read_nested(record: Mapping[str, Any]) -> Any:
        current: Any = record
        for part in parts:
            if type(current) is not dict and not isinstance(current, Mapping):
                return None
            current = current.get(part)
        return current

    return read_nested


@dataclass(frozen=True, slots=True)
class InboundValues:
    """What one Salesforce record contributes to a person."""

    values: dict[str, Any]
    emails: list[str] | None
    phones: list[str] | None


# What a mapping line does inbound: its target's kind (None: People lacks the target) and
# where its value goes (an attribute, or the email or phone list).
_VALUE, _EMAIL, _PHONE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Target:
    line: FieldMapping
    kind: AttributeType | None
    read: Callable[[Mapping[str, Any]], Any]
    goes_to: int
    overwrite: bool
    fill: bool


class InboundMapper:
    """``inbound_values`` for many records of one mapping: each line's target type, direction
    and field path are resolved once instead of once per record and line."""

    def __init__(
        self, lines: Sequence[FieldMapping], definitions: Mapping[str, AttributeDefinition]
    ) -> None:
        self.lines = tuple(lines)
        self.definitions = definitions
        self._readers: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
        self._create_plan: tuple[_Target, ...] | None = None
        self._update_plan: tuple[_Target, ...] | None = None

    def reader(self, path: str) -> Callable[[Mapping[str, Any]], Any]:
        """The (cached) reader of one field path."""
        read = self._readers.get(path)
        if read is None:
            read = self._readers[path] = field_reader(path)
        return read

    def _plan(self, lines: Sequence[FieldMapping], creating: bool) -> tuple[_Target, ...]:
        return tuple(
            _Target(
                line,
                attribute_type(line.attribute, self.definitions),
                self.reader(line.salesforce_field),
                _EMAIL
                if line.attribute == "emails"
                else _PHONE
                if line.attribute == "phones"
                else _VALUE,
                line.mode is Mode.OVERWRITE,
                line.mode is Mode.FILL,
            )
            for line in lines
            if line.applies(inbound=True, creating=creating)
        )

    def values(
        self,
        record: Mapping[str, Any],
        lines: Sequence[FieldMapping] | None = None,
        *,
        current: Mapping[str, Any] | None,
        current_emails: Sequence[str] = (),
        current_phones: Sequence[str] = (),
        fields: Mapping[str, Any] | None = None,
    ) -> InboundValues:
        """See ``inbound_values``; ``lines`` defaults to the mapper's. ``fields`` may hold the
        record's values by mapped field path, already read."""
        creating = current is None
        name = str(record.get("Id") or "(new record)")
        values: dict[str, Any] = {}
        emails: list[str] = []
        phones: list[str] = []
        touched_emails = touched_phones = False
        if lines is None or lines is self.lines:
            plan = self._create_plan if creating else self._update_plan
            if plan is None:
                plan = self._plan(self.lines, creating)
                if creating:
                    self._create_plan = plan
                else:
                    self._update_plan = plan
        else:
            plan = self._plan(lines, creating)
        for target in plan:
            kind = target.kind
            if kind is None:
                raise ConfigurationError(
                    f"the mapping targets {target.line.attribute!r}, which People does not have",
                    hint="create the attribute in People, or remove the mapping line",
                )
            raw = target.read(record) if fields is None else fields[target.line.salesforce_field]
            if raw is None or raw == "":
                value = None
            elif kind is AttributeType.TEXT and type(raw) is str:
                value = raw.strip()
            else:
                value = from_salesforce(raw, kind, record=name, field=target.line.salesforce_field)
            goes_to = target.goes_to
            if goes_to == _EMAIL:
                touched_emails = True
                if value and (target.overwrite or not current_emails):
                    emails.append(value)
                continue
            if goes_to == _PHONE:
                touched_phones = True
                if value and (target.overwrite or not current_phones):
                    phones.append(value)
                continue
            if (
                target.fill
                and current is not None
                and current.get(target.line.attribute) not in (None, "", [])
            ):
                continue
            values[target.line.attribute] = value
        merged_emails = _merge(emails, current_emails) if touched_emails and emails else None
        merged_phones = _merge(phones, current_phones) if touched_phones and phones else None
        return InboundValues(values, merged_emails, merged_phones)


def inbound_values(
    record: Mapping[str, Any],
    lines: Sequence[FieldMapping],
    definitions: Mapping[str, AttributeDefinition],
    *,
    current: Mapping[str, Any] | None,
    current_emails: Sequence[str] = (),
    current_phones: Sequence[str] = (),
) -> InboundValues:
    """Values for a person from one record, honouring Fill/Overwrite and create/update sets.

    ``current`` holds the person's attribute values (None when the person is being created).
    Emails and phones from Salesforce become the primary entries; other known ones are kept.
    Mapping many records: ``InboundMapper`` does the same with the lines resolved once.
    """
    return InboundMapper(lines, definitions).values(
        record,
        current=current,
        current_emails=current_emails,
        current_phones=current_phones,
    )


def _merge(first: Sequence[str], rest: Sequence[str]) -> list[str]:
    if len(first) == 1 and not rest:
        return [first[0]]
    seen: dict[str, str] = {}
    for item in (*first, *rest):
        seen.setdefault(item.strip().lower(), item)
    return list(seen.values())


__all__ = [
    "InboundMapper",
    "InboundValues",
    "field_reader",
    "from_salesforce",
    "inbound_values",
    "read_path",
]
