"""How a compiled query's SQLite rows become Salesforce query results (REST JSON, Bulk CSV).

Stored values differ from their API form for some types (booleans are 0/1, datetimes are
``...000Z`` text); ``json_value`` and ``csv_value`` convert them. A row holds the selected
values, then the Id (and, for polymorphic lookups, the type) of every parent reached, so
that an empty lookup comes back as ``null`` the way Salesforce returns it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
# Types whose stored values differ from their REST JSON (see ``json_value``); the others
# are sent as stored.
JSON_CONVERTED = frozenset({"boolean", "datetime", *NUMBER_TYPES})


def storage_datetime(moment: datetime) -> str:
    """A datetime in the storage layout (UTC, milliseconds, ``Z``)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def json_value(kind: str, stored: object) -> object:
    """A stored value as REST JSON."""
    if stored is None:
        return None
    if kind == "boolean":
        return bool(stored)
    if kind == "int":
        return int(stored)  # type: ignore[call-overload]
    if kind in NUMBER_TYPES:
        return float(stored)  # type: ignore[arg-type]
    if kind == "datetime":
        return str(stored)[:-1] + "+0000"
    return stored


COMPOUND_PART_KEYS = (
    ("GeocodeAccuracy", "geocodeAccuracy"),
    ("PostalCode", "postalCode"),
    ("StateCode", "stateCode"),
    ("CountryCode", "countryCode"),
    ("Street", "street"),
    ("City", "city"),
    ("State", "state"),
    ("Country", "country"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
)


def part_key(component: str) -> str:
    """The key of a compound field component (``MailingPostalCode`` -> ``postalCode``)."""
    name = component.removesuffix("__s")
    for suffix, key in COMPOUND_PART_KEYS:
        if name.endswith(suffix):
            return key
    return name[:1].lower() + name[1:]


def compound_json(parts: Iterable[tuple[str, str, object]]) -> dict[str, object] | None:
    """An address or location as Salesforce returns it: its components (key, type, stored
    value) under their keys in alphabetical order, or None when every component is null."""
    values = {key: json_value(kind, stored) for key, kind, stored in sorted(parts)}
    return values if any(v is not None for v in values.values()) else None


def csv_value(kind: str, stored: object) -> str:
    """A stored value as Bulk API CSV text."""
    if stored is None:
        return ""
    if kind == "boolean":
        return "true" if stored else "false"
    if kind in NUMBER_TYPES and kind != "int":
        number = float(stored)  # type: ignore[arg-type]
        return str(int(number)) if number.is_integer() else repr(number)
    return str(stored)


@dataclass(frozen=True, slots=True)
class Hop:
    """A parent reached through a lookup: where its Id (and type) sit in the row.

    ``shown`` is the type in the nested record's attributes: the parent's sObject, or
    ``"Name"`` for a polymorphic lookup read without TYPEOF (as Salesforce answers)."""

    name: str
    id_index: int
    sobject: str | None
    type_index: int | None
    shown: str | None


@dataclass(frozen=True, slots=True)
class Output:
    """One value of a result record.

    ``kind`` is the field type; ``address``/``location`` put ``parts`` (key, type, row
    index) together into Salesforce's nested object (null when every part is null);
    ``child`` is a sub-query whose rows come as one JSON array in the row."""

    key: str
    kind: str
    index: int
    hops: tuple[Hop, ...] = ()
    header: str = ""
    parts: tuple[tuple[str, str, int], ...] = ()
    child: CompiledQuery | None = None
    when: tuple[frozenset[str], bool] | None = None  # TYPEOF: (types, listed or not listed)


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run in SQLite, and how to shape its rows."""

    sobject: str
    sql: str
    params: tuple[object, ...]
    is_count: bool
    columns: tuple[str, ...]
    limit: int | None
    offset: int | None
    outputs: tuple[Output, ...] = ()
    aggregate: bool = False
    id_index: int | None = 0

    def to_record(self, row: Sequence[object], api_version: str) -> dict[str, object]:
        """A row as Salesforce returns it in a query result."""
        base = f"/services/data/v{api_version}/sobjects"
        attributes: dict[str, object] = {"type": "AggregateResult"}
        if not self.aggregate and self.id_index is not None:
            attributes = {
                "type": self.sobject,
                "url": f"{base}/{self.sobject}/{row[self.id_index]}",
            }
        record: dict[str, Any] = {"attributes": attributes}
        for output in self.outputs:
            target = self._parent(record, output, row, base)
            if target is None:
                continue
            if output.when is not None and output.hops:
                last = output.hops[-1]
                actual = last.sobject or str(row[last.type_index or 0])
                types, listed = output.when
                if (actual in types) != listed:
                    continue
            target[output.key] = self._value(output, row, api_version)
        return record

    @staticmethod
    def _parent(
        record: dict[str, Any], output: Output, row: Sequence[object], base: str
    ) -> dict[str, Any] | None:
        """The nested parent record ``output`` goes in (None when a lookup is empty)."""
        target = record
        for hop in output.hops:
            related_id = row[hop.id_index]
            if related_id is None:
                target[hop.name] = None
                return None
            if not isinstance(target.get(hop.name), dict):
                sobject = hop.sobject or str(row[hop.type_index or 0])
                target[hop.name] = {
                    "attributes": {
                        "type": hop.shown or sobject,
                        "url": f"{base}/{sobject}/{related_id}",
                    }
                }
            target = target[hop.name]
        return target

    @staticmethod
    def _value(output: Output, row: Sequence[object], api_version: str) -> object:
        if output.child is not None:
            rows = json.loads(str(row[output.index] or "[]"))
            if not rows:
                return None
            records = [output.child.to_record(r, api_version) for r in rows]
            return {"totalSize": len(records), "done": True, "records": records}
        if output.parts:
            return compound_json((key, kind, row[index]) for key, kind, index in output.parts)
        return json_value(output.kind, row[output.index])

    def to_csv_row(self, row: Sequence[object]) -> list[str]:
        """A row as Bulk API CSV values in ``columns`` order."""
        return [csv_value(o.kind, row[o.index]) for o in self.outputs]
