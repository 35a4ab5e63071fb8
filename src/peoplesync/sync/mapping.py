"""Field mappings between Salesforce objects and People, and the value conversion they need.

A mapping line says which Salesforce field meets which People attribute, in which direction,
with which mode (Don't sync, Fill only empty values, Overwrite) and whether it applies when a
record is created, updated or both. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from peoplesync.errors import ConfigurationError, RecordError, ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.sync.cursor import parse_modstamp

CONTACT_POINTS = {"emails": "email", "phones": "phone"}


class Mode(StrEnum):
    """What a mapping line does with a value."""

    DONT_SYNC = "dont_sync"
    FILL = "fill"  # only when the target is empty
    OVERWRITE = "overwrite"


class Direction(StrEnum):
    """Which way values flow."""

    INBOUND = "inbound"  # Salesforce -> People
    OUTBOUND = "outbound"  # People -> Salesforce
    BOTH = "both"


class ConflictRule(StrEnum):
    """Who wins when both sides changed a two-way field."""

    SALESFORCE_WINS = "salesforce_wins"
    PEOPLE_WINS = "people_wins"
    MOST_RECENT = "most_recent"


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """One line of a step's mapping."""

    salesforce_field: str
    attribute: str  # a standard or custom attribute, or "emails" / "phones"
    direction: Direction = Direction.INBOUND
    mode: Mode = Mode.OVERWRITE
    on_create: bool = True
    on_update: bool = True
    conflict: ConflictRule = ConflictRule.MOST_RECENT

    def applies(self, *, inbound: bool, creating: bool) -> bool:
        """Whether this line moves a value for this kind of write."""
        if self.mode is Mode.DONT_SYNC:
            return False
        wanted = Direction.INBOUND if inbound else Direction.OUTBOUND
        if self.direction not in (wanted, Direction.BOTH):
            return False
        return self.on_create if creating else self.on_update


def _lines(
    pairs: Sequence[tuple[str, str]], direction: Direction = Direction.INBOUND
) -> tuple[FieldMapping, ...]:
    return tuple(FieldMapping(field, attribute, direction) for field, attribute in pairs)


DEFAULT_MAPPINGS: dict[str, tuple[FieldMapping, ...]] = {
    "Lead": _lines(
        [
            ("FirstName", "first_name"),
            ("LastName", "last_name"),
            ("Email", "emails"),
            ("Phone", "phones"),
            ("MobilePhone", "phones"),
            ("Company", "company"),
            ("Title", "title"),
            ("City", "city"),
            ("Country", "country"),
            ("Street", "address"),
            ("LeadSource", "lead_source"),
            ("Status", "status"),
        ]
    ),
    "Contact": _lines(
        [
            ("FirstName", "first_name"),
            ("LastName", "last_name"),
            ("Email", "emails"),
            ("Phone", "phones"),
            ("MobilePhone", "phones"),
            ("Account.Name", "company"),
            ("Title", "title"),
            ("MailingCity", "city"),
            ("MailingCountry", "country"),
            ("MailingStreet", "address"),
            ("LeadSource", "lead_source"),
            ("Birthdate", "birth_date"),
        ]
    ),
}


def attribute_type(
    attribute: str, definitions: Mapping[str, AttributeDefinition]
) -> AttributeType | None:
    """The People type of a mapping target, or None when it does not exist."""
    if attribute in CONTACT_POINTS:
        return AttributeType.TEXT
    if attribute in STANDARD_ATTRIBUTES:
        return STANDARD_ATTRIBUTES[attribute].type
    definition = definitions.get(attribute)
    return definition.type if definition else None


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


def validate_lines(
    sobject: str,
    lines: Sequence[FieldMapping],
    describe: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    *,
    creates_records: bool = True,
) -> list[RecordError]:
    """Everything wrong with a step's mapping, found before the step is saved.

    ``creates_records`` off (an inbound step, whose two-way lines only flow inbound there)
    leaves out the fields Salesforce requires on create: the outbound step that creates
    records checks those."""
    problems: list[RecordError] = []
    fields = {f["name"].lower(): f for f in describe.get("fields", [])}
    where = f"mapping {sobject}"
    for line in lines:
        if line.mode is Mode.DONT_SYNC:
            continue
        root = line.salesforce_field.split(".")[0]
        meta = fields.get(line.salesforce_field.lower()) or (
            fields.get((root + "Id").lower()) if "." in line.salesforce_field else None
        )
        if meta is None:
            problems.append(
                ValidationError(
                    f"{sobject} has no field {line.salesforce_field}",
                    record=where,
                    field=line.salesforce_field,
                    hint="pick a field from the object's describe, or create it in Salesforce",
                )
            )
            continue
        if attribute_type(line.attribute, definitions) is None:
            problems.append(
                ValidationError(
                    f"People has no attribute {line.attribute}",
                    record=where,
                    field=line.attribute,
                    hint="create the attribute in People (`peoplesync attributes add`)",
                )
            )
        outbound = line.direction in (Direction.OUTBOUND, Direction.BOTH)
        if (
            outbound
            and "." not in line.salesforce_field
            and not (meta.get("createable") or meta.get("updateable"))
        ):
            problems.append(
                ValidationError(
                    f"{sobject}.{meta['name']} is read-only and cannot receive People values",
                    record=where,
                    field=line.salesforce_field,
                    hint="map it inbound only",
                )
            )
    if creates_records and any(
        line.direction in (Direction.OUTBOUND, Direction.BOTH) for line in lines
    ):
        mapped = {
            line.salesforce_field.lower()
            for line in lines
            if line.on_create
            and line.mode is not Mode.DONT_SYNC
            and line.direction is not Direction.INBOUND
        }
        for meta in fields.values():
            required = (
                meta.get("createable")
                and not meta.get("nillable")
                and not meta.get("defaultedOnCreate")
                and meta.get("type") != "boolean"
            )
            if required and meta["name"].lower() not in mapped:
                problems.append(
                    ValidationError(
                        f"{sobject}.{meta['name']} is required in Salesforce, "
                        "but no People attribute fills it on create",
                        record=where,
                        field=meta["name"],
                        hint=f"map a People attribute to {meta['name']} for new records",
                    )
                )
    inbound_targets = {
        line.attribute for line in lines if line.applies(inbound=True, creating=True)
    }
    for definition in definitions.values():
        if definition.mandatory and inbound_targets and definition.name not in inbound_targets:
            problems.append(
                ValidationError(
                    f"People requires {definition.name} but no {sobject} field fills it",
                    record=where,
                    field=definition.name,
                    hint=f"map a {sobject} field to {definition.name}",
                )
            )
    return problems


__all__ = [
    "DEFAULT_MAPPINGS",
    "ConflictRule",
    "Direction",
    "FieldMapping",
    "InboundMapper",
    "InboundValues",
    "Mode",
]
