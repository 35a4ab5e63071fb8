"""The inbound decisions, pure: given a Salesforce record as read, its link (what was last
synced) and the step, what the runner should do with it. Shared by the Contact/Lead and the
Account runners; the runners fetch, apply and record (``inbound``, ``company_inbound``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from peoplesync.people.model import ExternalLink, Person, PersonInput
from peoplesync.sync.inbound.mapper import InboundValues
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound.push_mark import kept_state, stale_fields, synced_values

Source = tuple[dict[str, Any], dict[str, Any]]
"""A record to link and the values its link keeps as last synced."""


def passes_over(
    step: InboundStep, link: ExternalLink | None, snapshot: Mapping[str, Any], *, force: bool
) -> bool:
    """Whether the record is skipped: unchanged since its last sync (unless ``force``), or
    the step's switch for it (create a new one, update a linked one) is off."""
    if not force and link is not None and synced_values(link.state) == snapshot:
        return True
    return (link is None and not step.create) or (link is not None and not step.update)


@dataclass(frozen=True)
class Contribution:
    """The lines a record applies, and the fields a push wrote after it was read."""

    lines: tuple[FieldMapping, ...]
    stale: frozenset[str] = frozenset()

    def without(self, fields: Collection[str]) -> Contribution:
        """The contribution less the lines of ``fields`` (fields People keeps)."""
        kept = tuple(line for line in self.lines if line.salesforce_field not in fields)
        return Contribution(kept, self.stale)


def contribution(
    lines: tuple[FieldMapping, ...],
    record: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    link: ExternalLink | None,
    *,
    force: bool,
) -> Contribution:
    """A linked record contributes only the fields that changed since its last sync (so a
    Lead edit does not undo what the person's Contact brought), less the fields read before
    a push wrote them (People has the newer values); a new record, or ``force``, all lines."""
    if link is None or not link.state or force:
        changed = lines
    else:
        changed = tuple(
            line
            for line in lines
            if snapshot.get(line.salesforce_field) != link.state.get(line.salesforce_field)
        )
    if link is None:
        return Contribution(changed)
    stale = frozenset(stale_fields(record, snapshot, link.state))
    return Contribution(changed, stale).without(stale)


def source(
    record: dict[str, Any],
    snapshot: dict[str, Any],
    link: ExternalLink | None,
    stale: frozenset[str],
) -> Source:
    """The record with the values its link keeps: a stale field keeps its last synced value
    so the next read sees the push's value as a change of Salesforce's."""
    return record, (kept_state(snapshot, link.state, stale) if link else snapshot)


@dataclass(frozen=True)
class Conversion:
    """A converted Lead: a warning, and the person's link to its Contact when linked."""

    warning: str
    contact_link: ExternalLink | None


def lead_conversion(
    step: InboundStep, record: Mapping[str, Any], link: ExternalLink | None, now: datetime
) -> Conversion | None:
    """None unless ``record`` is a converted Lead; the person then follows the Contact."""
    if step.sobject != "Lead" or not record.get("IsConverted"):
        return None
    contact = record.get("ConvertedContactId")
    warning = (
        f"lead {record['Id']} was converted to contact {contact}; the person follows the contact"
    )
    if link is None or not contact:
        return Conversion(warning, None)
    made = ExternalLink("person", link.entity_id, step.system, "Contact", str(contact), {}, now)
    return Conversion(warning, made)


def duplicate_note(step: InboundStep, record: Mapping[str, Any], primary: str) -> str:
    """Why an unlinked record with the email of another record of its object is left out."""
    return (
        f"{step.sobject} {record['Id']} has the email of {step.sobject} {primary}; "
        "it is not linked (merge the duplicates in Salesforce)"
    )


def person_input(
    step: InboundStep,
    record: Mapping[str, Any],
    mapped: InboundValues,
    link: ExternalLink | None,
    person: Person | None,
) -> PersonInput:
    """The write of a mapped record: the linked person (at the version it was decided on,
    so a People edit landing meanwhile refuses the batch) or a new one."""
    return PersonInput(
        values=mapped.values,
        emails=mapped.emails,
        phones=mapped.phones,
        id=link.entity_id if link else None,
        key=f"{step.sobject} {record['Id']}",
        version=person.version if person else None,
    )


@dataclass
class BatchPlan:
    """What one batch writes: entity inputs (with their sources, index for index) and links
    beyond those of the written entities."""

    kind: Literal["person", "company"]
    inputs: list[Any] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    extra_links: list[ExternalLink] = field(default_factory=list)

    def add(self, entity: Any, made_from: Source) -> None:
        """One entity to write, made from a record."""
        self.inputs.append(entity)
        self.sources.append(made_from)

    def links(
        self, step: InboundStep, ids: Sequence[str | None], now: datetime
    ) -> list[ExternalLink]:
        """The links of the written entities (ids as the store returned them, None for a
        rejected one), then the extra ones."""
        made = [
            ExternalLink(
                self.kind, entity_id, step.system, step.sobject, str(record["Id"]), kept, now
            )
            for entity_id, (record, kept) in zip(ids, self.sources, strict=True)
            if entity_id is not None
        ]
        return made + self.extra_links


__all__ = [
    "BatchPlan",
    "Contribution",
    "Conversion",
    "Source",
    "contribution",
    "duplicate_note",
    "lead_conversion",
    "passes_over",
    "person_input",
    "source",
]
