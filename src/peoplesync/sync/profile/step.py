"""One step of a sync profile: (Salesforce object, People target, direction) with its switches,
mapping lines and inbound filter, and the errors that name a step's field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from peoplesync.errors import ConfigurationError
from peoplesync.sync.inbound.company import COMPANY_TYPES
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.outbound.runner import OutboundStep
from peoplesync.sync.profile.schedule import Schedule
from peoplesync.sync.profile.step_filter import compose_filter


class Target(StrEnum):
    """What a step's records become in People."""

    PERSON = "person"
    COMPANY = "company"


COMPANY_FIELDS = tuple(COMPANY_TYPES)
OUTBOUND_OBJECTS = ("Lead", "Contact", "Account")


class StepProblem(ConfigurationError):
    """One thing wrong with one field of one step."""

    def __init__(
        self, step: str, field: str, message: str, *, hint: str = "", web_hint: str = ""
    ) -> None:
        super().__init__(f"step {step!r}, field {field}: {message}", hint=hint, web_hint=web_hint)
        self.step = step
        self.field = field
        self.detail = message


class ProfileError(ConfigurationError):
    """A profile was rejected; nothing of it was saved."""

    def __init__(self, problems: Sequence[StepProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the profile: {shown}{more}")


@dataclass(frozen=True)
class StepFilter:
    """Which records an inbound step reads: a SOQL condition and convenience filters."""

    condition: str | None = None
    modified_within_days: int | None = None
    lead_statuses: tuple[str, ...] = ()

    def soql(self) -> str | None:
        """The composed WHERE condition (None when the step reads everything)."""
        return compose_filter(
            condition=self.condition,
            modified_within_days=self.modified_within_days,
            lead_statuses=self.lead_statuses,
        )


@dataclass(frozen=True)
class Step:
    """One synchronisation step of a profile."""

    name: str
    sobject: str
    target: Target = Target.PERSON
    direction: Direction = Direction.INBOUND
    enabled: bool = True
    create: bool = True
    update: bool = True
    delete: bool = True
    lines: tuple[FieldMapping, ...] = ()
    filter: StepFilter = field(default_factory=StepFilter)
    segment: str | None = None  # outbound: push only the persons of this People segment
    # Outbound steps of a new integration start off until the user has seen the push
    # preview and switched them on (enabling or disabling the step clears it).
    awaiting_review: bool = False
    schedule: Schedule | None = None  # None: real time, as before schedules (sync.schedule)

    def reads_like(self, other: Step) -> bool:
        """Whether both read the same records into the same values (else a resync is due)."""
        return (self.sobject, self.target, self.lines, self.filter) == (
            other.sobject,
            other.target,
            other.lines,
            other.filter,
        )

    def inbound_step(self, integration: str = "default") -> InboundStep:
        """The runner's view of this step."""
        return InboundStep(
            self.sobject,
            self.lines,
            integration=integration,
            condition=self.filter.soql(),
            create=self.create,
            update=self.update,
            delete=self.delete,
            name=self.name,
        )

    def outbound_step(self) -> OutboundStep:
        """The push runner's view of this (outbound) step."""
        return OutboundStep(
            self.sobject,
            self.lines,
            create=self.create,
            update=self.update,
            delete=self.delete,
            name=self.name,
            segment=self.segment,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML/JSON); mapping lines leave out their default settings."""
        filters: dict[str, Any] = {}
        if self.filter.condition:
            filters["condition"] = self.filter.condition
        if self.filter.modified_within_days is not None:
            filters["modified_within_days"] = self.filter.modified_within_days
        if self.filter.lead_statuses:
            filters["lead_statuses"] = list(self.filter.lead_statuses)
        segment = {"segment": self.segment} if self.segment else {}
        review = {"awaiting_review": True} if self.awaiting_review else {}
        schedule = {"schedule": self.schedule.to_dict()} if self.schedule else {}
        return {
            "name": self.name,
            "sobject": self.sobject,
            **segment,
            "target": self.target.value,
            "direction": self.direction.value,
            "enabled": self.enabled,
            **review,
            **schedule,
            "create": self.create,
            "update": self.update,
            "delete": self.delete,
            "filter": filters,
            "mapping": [_line_to_dict(line) for line in self.lines],
        }


ON_SWITCHES = {"both": (True, True), "create": (True, False), "update": (False, True)}


def _line_to_dict(line: FieldMapping) -> dict[str, Any]:
    data: dict[str, Any] = {"field": line.salesforce_field, "attribute": line.attribute}
    if line.mode is not Mode.OVERWRITE:
        data["mode"] = line.mode.value
    on = next(key for key, pair in ON_SWITCHES.items() if pair == (line.on_create, line.on_update))
    if on != "both":
        data["when"] = on
    if line.direction is not Direction.INBOUND:
        data["direction"] = line.direction.value
    if line.direction is Direction.BOTH or line.conflict is not ConflictRule.MOST_RECENT:
        data["conflict"] = line.conflict.value  # a two-way line always shows its rule
    return data


def on_switches(on: str) -> tuple[bool, bool]:
    """(on_create, on_update) for ``create``, ``update`` or ``both``."""
    if on not in ON_SWITCHES:
        raise ConfigurationError(f"unknown --on {on!r}", hint="use create, update or both")
    return ON_SWITCHES[on]
