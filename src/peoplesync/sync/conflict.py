"""Two-way fields: when both sides changed one since the last sync, who wins. All pure.

A conflict is a two-way (``Direction.BOTH``) Overwrite line whose Salesforce value changed since
the link's last synced state, whose People value changed too, and whose two new values differ.
The line's rule decides: Salesforce wins, People wins, or the most recent change wins
(Salesforce's LastModifiedDate against when People last changed that attribute, not the
person's last update, which any other attribute moves). Both directions ask the same
question with the same inputs, so the inbound and the outbound runner agree on the winner; the
loser's side is then written with the winner's value by the runner of the winner's direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from peoplesync.people.attribute import AttributeDefinition
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode, attribute_type
from peoplesync.sync.outbound.plan import same_value


class Side(StrEnum):
    """Where a value comes from."""

    SALESFORCE = "salesforce"
    PEOPLE = "people"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Both sides changed one field since the last sync; ``winner`` is whose value stays."""

    record: str
    salesforce_field: str
    attribute: str
    salesforce_value: Any
    people_value: Any
    rule: ConflictRule
    winner: Side

    def describe(self) -> str:
        """One line for reports, status and logs, with both values."""
        return (
            f"{self.record}: {self.salesforce_field} changed in Salesforce to "
            f"{self.salesforce_value!r} and {self.attribute} in People to {self.people_value!r}; "
            f"{self.winner.value} wins ({self.rule.value})"
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "record": self.record,
            "field": self.salesforce_field,
            "attribute": self.attribute,
            "salesforce_value": _plain(self.salesforce_value),
            "people_value": _plain(self.people_value),
            "rule": self.rule.value,
            "winner": self.winner.value,
        }


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def winner(
    rule: ConflictRule, *, salesforce_at: datetime | None, people_at: datetime | None
) -> Side:
    """Who wins a conflict under ``rule``. Most recent: the later change; a tie or an unknown
    time goes to Salesforce (the record of reference), so both runners decide alike."""
    if rule is ConflictRule.SALESFORCE_WINS:
        return Side.SALESFORCE
    if rule is ConflictRule.PEOPLE_WINS:
        return Side.PEOPLE
    if salesforce_at is None or people_at is None:
        return Side.SALESFORCE
    return Side.PEOPLE if people_at > salesforce_at else Side.SALESFORCE


def two_way(line: FieldMapping) -> bool:
    """Whether a line can meet a change from the other side (two-way, Overwrite, writable)."""
    return (
        line.direction is Direction.BOTH
        and line.mode is Mode.OVERWRITE
        and "." not in line.salesforce_field
    )


@dataclass(frozen=True, slots=True)
class FieldSides:
    """One field seen from both sides: last synced, in Salesforce now, in People now (the
    People value already in Salesforce form)."""

    synced: Any
    salesforce: Any
    people: Any


def in_conflict(
    line: FieldMapping,
    sides: FieldSides,
    definitions: Mapping[str, AttributeDefinition],
    *,
    phone_region: str | None = None,
) -> bool:
    """Whether both sides changed the line's value since the last sync, to different values."""
    if not two_way(line):
        return False
    kind = attribute_type(line.attribute, definitions)

    def same(left: Any, right: Any) -> bool:
        return same_value(left, right, kind, line.attribute, phone_region=phone_region)

    return (
        not same(sides.synced, sides.salesforce)
        and not same(sides.synced, sides.people)
        and not same(sides.salesforce, sides.people)
    )


@dataclass(frozen=True, slots=True)
class Moment:
    """When Salesforce last changed the record, and when People last changed each attribute
    (by name; an attribute left out has no known time)."""

    salesforce_at: datetime | None
    people_at: Mapping[str, datetime] = field(default_factory=dict)


def _clashes(
    lines: Sequence[FieldMapping],
    state: Mapping[str, Any],
    salesforce: Mapping[str, Any],
    people: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    phone_region: str | None,
) -> Iterator[tuple[FieldMapping, FieldSides]]:
    """The lines in conflict (one per Salesforce field), with their sides."""
    seen: set[str] = set()
    for line in lines:
        name = line.salesforce_field
        if name in seen:
            continue
        seen.add(name)
        sides = FieldSides(state.get(name), salesforce.get(name), people.get(name))
        if in_conflict(line, sides, definitions, phone_region=phone_region):
            yield line, sides


def attributes_to_time(
    lines: Sequence[FieldMapping],
    state: Mapping[str, Any],
    salesforce: Mapping[str, Any],
    people: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    phone_region: str | None = None,
) -> set[str]:
    """The People attributes whose change time ``settle`` needs (in conflict, most recent)."""
    return {
        line.attribute
        for line, _ in _clashes(lines, state, salesforce, people, definitions, phone_region)
        if line.conflict is ConflictRule.MOST_RECENT
    }


def settle(
    record: str,
    lines: Sequence[FieldMapping],
    state: Mapping[str, Any],
    salesforce: Mapping[str, Any],
    people: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    moment: Moment,
    *,
    phone_region: str | None = None,
) -> list[Conflict]:
    """The conflicts among ``lines`` of one record: ``state`` is the link's last synced
    Salesforce values, ``salesforce`` the record's values now, ``people`` the person's values
    in Salesforce form (``person_values``); ``moment`` has the times of the attributes
    ``attributes_to_time`` names."""
    return [
        Conflict(
            record,
            line.salesforce_field,
            line.attribute,
            sides.salesforce,
            sides.people,
            line.conflict,
            winner(
                line.conflict,
                salesforce_at=moment.salesforce_at,
                people_at=moment.people_at.get(line.attribute),
            ),
        )
        for line, sides in _clashes(lines, state, salesforce, people, definitions, phone_region)
    ]


def losing(conflicts: Sequence[Conflict], side: Side) -> set[str]:
    """The Salesforce fields whose change from ``side`` loses (must not be applied)."""
    return {c.salesforce_field for c in conflicts if c.winner is not side}


def needs_salesforce_values(lines: Sequence[FieldMapping], fields: Iterable[str]) -> bool:
    """Whether writing ``fields`` may overwrite a Salesforce change that should win: some of
    them are two-way lines whose rule can let Salesforce win."""
    return not _may_lose(lines).isdisjoint(fields)


# Per mapping tuple (kept alive with its answer, so its id stays its own): the fields of its
# two-way lines whose rule can let Salesforce win. Asked once per record of a push.
_MAY_LOSE: dict[int, tuple[Sequence[FieldMapping], frozenset[str]]] = {}


def _may_lose(lines: Sequence[FieldMapping]) -> frozenset[str]:
    found = _MAY_LOSE.get(id(lines))
    if found is not None and found[0] is lines:
        return found[1]
    fields = frozenset(
        line.salesforce_field
        for line in lines
        if two_way(line) and line.conflict is not ConflictRule.PEOPLE_WINS
    )
    if not isinstance(lines, tuple):  # only an immutable mapping can be remembered
        return fields
    if len(_MAY_LOSE) >= 1024:
        _MAY_LOSE.clear()
    _MAY_LOSE[id(lines)] = (lines, fields)
    return fields


__all__ = [
    "Conflict",
    "FieldSides",
    "Moment",
    "Side",
    "attributes_to_time",
    "in_conflict",
    "losing",
    "needs_salesforce_values",
    "settle",
    "two_way",
    "winner",
]
