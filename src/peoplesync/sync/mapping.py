"""Field mappings between Salesforce objects and People (values are read in ``inbound_mapper``).

A mapping line says which Salesforce field meets which People attribute, in which direction,
with which mode (Don't sync, Fill only empty values, Overwrite) and whether it applies when a
record is created, updated or both. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from peoplesync.errors import RecordError, ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType

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
                    web_hint="create the attribute in People (People -> Configuration, the "
                    "line's Create attribute button, or POST /api/v1/attributes)",
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
    "Mode",
]
