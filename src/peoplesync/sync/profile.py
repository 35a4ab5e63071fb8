"""Sync profiles: an integration's steps, with their mappings, switches and filters, as data.

A step is (Salesforce object, People target, direction) with create / update / delete switches,
mapping lines and an inbound filter. A profile is the ordered list of steps. Everything here
is pure: operations return a new profile, ``problems`` lists what is wrong (each problem names
the step and the field), and ``to_dict`` / ``from_dict`` / YAML give configuration as code.
Checks that need the People store or the org live in ``profile_store``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from peoplesync.errors import ConfigurationError, PeopleSyncError, RecordError
from peoplesync.sync.account_plan import ACCOUNT_OUTBOUND
from peoplesync.sync.company_inbound import ACCOUNT_MAPPING, COMPANY_TYPES
from peoplesync.sync.inbound_step import InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.outbound import OutboundStep
from peoplesync.sync.outbound_plan import OUTBOUND_MAPPINGS
from peoplesync.sync.schedule import Schedule
from peoplesync.sync.step_filter import compose_filter

FORMAT_VERSION = 1
_STEP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Target(StrEnum):
    """What a step's records become in People."""

    PERSON = "person"
    COMPANY = "company"


COMPANY_FIELDS = tuple(COMPANY_TYPES)
OUTBOUND_OBJECTS = ("Lead", "Contact", "Account")


class StepProblem(ConfigurationError):
    """One thing wrong with one field of one step."""

    def __init__(self, step: str, field: str, message: str, *, hint: str = "") -> None:
        super().__init__(f"step {step!r}, field {field}: {message}", hint=hint)
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


def default_lines(
    sobject: str, direction: Direction = Direction.INBOUND
) -> tuple[FieldMapping, ...]:
    """The shipped mapping of an object (empty for objects without one)."""
    if direction is Direction.OUTBOUND:
        return ACCOUNT_OUTBOUND if sobject == "Account" else OUTBOUND_MAPPINGS.get(sobject, ())
    if sobject == "Account":
        return ACCOUNT_MAPPING
    return DEFAULT_MAPPINGS.get(sobject, ())


def outbound_step(sobject: str, *, name: str | None = None) -> Step:
    """A Person -> ``sobject`` step with the shipped outbound mapping: Person -> Lead creates
    (a new person becomes a Lead), Person -> Contact only updates linked Contacts, and
    neither deletes until switched on. Company -> Account creates and updates Accounts."""
    if sobject == "Account":
        return Step(
            name or "Company to Account",
            sobject,
            Target.COMPANY,
            direction=Direction.OUTBOUND,
            delete=False,
            lines=ACCOUNT_OUTBOUND,
        )
    return Step(
        name or f"Person to {sobject}",
        sobject,
        direction=Direction.OUTBOUND,
        create=sobject == "Lead",
        delete=False,
        lines=OUTBOUND_MAPPINGS.get(sobject, ()),
    )


def two_way_lines(
    inbound: Sequence[FieldMapping], outbound: Sequence[FieldMapping]
) -> tuple[tuple[FieldMapping, ...], tuple[FieldMapping, ...]]:
    """An inbound and an outbound step's lines of one object with the fields both map made
    two-way under most recent: each step then settles a change made on both sides by that
    rule, where one-way lines let whichever runs last overwrite the other side's edit."""
    shared = {line.salesforce_field for line in inbound if "." not in line.salesforce_field} & {
        line.salesforce_field for line in outbound
    }

    def both(lines: Sequence[FieldMapping]) -> tuple[FieldMapping, ...]:
        return tuple(
            dataclasses.replace(line, direction=Direction.BOTH, conflict=ConflictRule.MOST_RECENT)
            if line.salesforce_field in shared
            else line
            for line in lines
        )

    return both(inbound), both(outbound)


def default_profile() -> Profile:
    """Account -> Company, Lead -> Person, Contact -> Person (inbound), then Person -> Lead and
    Person -> Contact (outbound), with shipped mappings; the fields a person's inbound and
    outbound steps both map are two-way, most recent change wins."""
    lead_in, lead_out = two_way_lines(DEFAULT_MAPPINGS["Lead"], OUTBOUND_MAPPINGS["Lead"])
    contact_in, contact_out = two_way_lines(
        DEFAULT_MAPPINGS["Contact"], OUTBOUND_MAPPINGS["Contact"]
    )
    return Profile(
        (
            Step("Account", "Account", Target.COMPANY, lines=ACCOUNT_MAPPING),
            Step("Lead", "Lead", lines=lead_in),
            Step("Contact", "Contact", lines=contact_in),
            dataclasses.replace(outbound_step("Lead"), lines=lead_out),
            dataclasses.replace(outbound_step("Contact"), lines=contact_out),
        )
    )


@dataclass(frozen=True)
class Profile:
    """An integration's ordered steps. Operations return a new profile."""

    steps: tuple[Step, ...]

    def names(self) -> list[str]:
        """Step names in order."""
        return [step.name for step in self.steps]

    def find(self, name: str) -> Step | None:
        """The step called ``name``, if any."""
        return next((step for step in self.steps if step.name == name), None)

    def step(self, name: str) -> Step:
        """The step called ``name``; a clear error when there is none."""
        found = self.find(name)
        if found is None:
            raise ConfigurationError(
                f"no step named {name!r}",
                hint=f"use one of: {', '.join(self.names()) or '(none)'} (peoplesync steps list)",
            )
        return found

    def _replace(self, step: Step) -> Profile:
        self.step(step.name)
        return Profile(tuple(step if s.name == step.name else s for s in self.steps))

    def add(self, step: Step) -> Profile:
        """The profile with ``step`` appended."""
        if self.find(step.name) is not None:
            raise ConfigurationError(
                f"a step named {step.name!r} exists already", hint="give the new step another name"
            )
        return Profile((*self.steps, step))

    def free_name(self, base: str) -> str:
        """``base``, or ``base 2``, ``base 3``... whichever is not taken."""
        if self.find(base) is None:
            return base
        number = 2
        while self.find(f"{base} {number}") is not None:
            number += 1
        return f"{base} {number}"

    def clone(self, name: str, new_name: str | None = None) -> Profile:
        """The profile with a copy of step ``name`` appended (named ``new_name`` or ``name 2``)."""
        original = self.step(name)
        return self.add(dataclasses.replace(original, name=new_name or self.free_name(name)))

    def remove(self, name: str) -> Profile:
        """The profile without step ``name``."""
        self.step(name)
        return Profile(tuple(s for s in self.steps if s.name != name))

    def set_enabled(self, name: str, enabled: bool) -> Profile:
        """Turn a step on or off (either way, it no longer awaits review)."""
        step = dataclasses.replace(self.step(name), enabled=enabled, awaiting_review=False)
        return self._replace(step)

    def held_for_review(self) -> Profile:
        """The profile with every enabled outbound step off and awaiting review: what a new
        integration starts with, so nothing is written to Salesforce before the user has
        seen the push preview."""
        return Profile(
            tuple(
                dataclasses.replace(s, enabled=False, awaiting_review=True)
                if s.enabled and s.direction is Direction.OUTBOUND
                else s
                for s in self.steps
            )
        )

    def awaiting_review(self) -> list[str]:
        """The names of the outbound steps that are off until reviewed."""
        return [s.name for s in self.steps if s.awaiting_review and not s.enabled]

    def set_switches(
        self,
        name: str,
        *,
        create: bool | None = None,
        update: bool | None = None,
        delete: bool | None = None,
    ) -> Profile:
        """Change the create / update / delete switches given (None leaves one as it is)."""
        step = self.step(name)
        return self._replace(
            dataclasses.replace(
                step,
                create=step.create if create is None else create,
                update=step.update if update is None else update,
                delete=step.delete if delete is None else delete,
            )
        )

    def set_filter(self, name: str, step_filter: StepFilter) -> Profile:
        """Replace a step's filter."""
        return self._replace(dataclasses.replace(self.step(name), filter=step_filter))

    def set_segment(self, name: str, segment: str | None) -> Profile:
        """Limit an outbound step to a People segment (None: every person)."""
        return self._replace(dataclasses.replace(self.step(name), segment=segment))

    def set_line(self, name: str, line: FieldMapping) -> Profile:
        """Add a mapping line, or replace the step's line for the same Salesforce field."""
        step = self.step(name)
        key = line.salesforce_field.lower()
        if any(old.salesforce_field.lower() == key for old in step.lines):
            lines = tuple(
                line if old.salesforce_field.lower() == key else old for old in step.lines
            )
        else:
            lines = (*step.lines, line)
        return self._replace(dataclasses.replace(step, lines=lines))

    def remove_line(self, name: str, salesforce_field: str) -> Profile:
        """Drop the step's line for ``salesforce_field``."""
        step = self.step(name)
        key = salesforce_field.lower()
        lines = tuple(line for line in step.lines if line.salesforce_field.lower() != key)
        if len(lines) == len(step.lines):
            raise ConfigurationError(
                f"step {name!r} maps no field {salesforce_field}",
                hint=f"mapped fields: {', '.join(li.salesforce_field for li in step.lines)}",
            )
        return self._replace(dataclasses.replace(step, lines=lines))

    def problems(self) -> list[StepProblem]:
        """What is wrong with the profile, found without the store or the org."""
        found: list[StepProblem] = []
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                found.append(
                    StepProblem(step.name, "name", "two steps have this name", hint="rename one")
                )
            seen.add(step.name)
            found += _step_problems(step)
        creators = [
            s.name
            for s in self.steps
            if s.enabled
            and s.create
            and s.direction is Direction.OUTBOUND
            and s.target is Target.PERSON
        ]
        for extra in creators[1:]:
            found.append(
                StepProblem(
                    extra,
                    "create",
                    f"only one outbound step creates records, and {creators[0]!r} does",
                    hint=f"peoplesync steps set {extra!r} --no-create",
                )
            )
        return found

    def outbound_steps(self, *, preview: bool = False) -> tuple[OutboundStep, ...]:
        """The enabled outbound steps, for the push runner; with ``preview`` also the steps
        awaiting review (a preview writes nothing, and is how they are reviewed)."""
        return tuple(
            s.outbound_step()
            for s in self.steps
            if (s.enabled or (preview and s.awaiting_review)) and s.direction is Direction.OUTBOUND
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage and YAML."""
        return {"version": FORMAT_VERSION, "steps": [step.to_dict() for step in self.steps]}

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """A profile from plain data; every structural problem is reported at once."""
        from peoplesync.sync.profile_format import read_profile  # the reader imports this module

        return read_profile(data)


def _step_problems(step: Step) -> list[StepProblem]:
    name = step.name
    found: list[StepProblem] = []

    def problem(field_name: str, message: str, hint: str) -> None:
        found.append(StepProblem(name, field_name, message, hint=hint))

    if not _STEP_NAME.fullmatch(name):
        problem(
            "name",
            "a name is 1 to 60 letters, digits, spaces, '_', '.' or '-'",
            "start it with a letter or digit",
        )
    if not _API_NAME.fullmatch(step.sobject):
        problem("sobject", f"{step.sobject!r} is not a Salesforce API name", "e.g. Lead, Score__c")
    outbound = step.direction is Direction.OUTBOUND
    if step.direction is Direction.BOTH:
        # Two-way is one inbound and one outbound step on the same object: each keeps its
        # own switches and mapping, and lines with direction both serve either.
        problem(
            "direction",
            "a step runs one way; two-way sync is an inbound step plus an outbound step",
            "set direction to inbound or outbound, and add a step for the other way",
        )
    if outbound and step.sobject not in OUTBOUND_OBJECTS:
        problem(
            "sobject",
            f"an outbound step writes persons to {' or '.join(OUTBOUND_OBJECTS)}, "
            f"not {step.target.value}s to {step.sobject}",
            "set sobject to Lead or Contact and target to person",
        )
    if outbound and step.filter != StepFilter():
        problem(
            "filter",
            "an outbound step has no Salesforce filter (it pushes every changed person)",
            "remove the filter",
        )
    if step.segment is not None and not outbound:
        problem(
            "segment",
            "only an outbound step pushes a segment's persons",
            "remove the segment, or make the step outbound",
        )
    if step.segment is not None and not step.segment.strip():
        problem("segment", "the segment name is empty", "give a segment's name, or remove it")
    if step.target is Target.COMPANY and step.sobject != "Account":
        problem("target", "only Accounts become companies", "set target to person")
    if step.target is Target.PERSON and step.sobject == "Account":
        problem("target", "Accounts become companies, not persons", "set target to company")
    keys: set[tuple[str, str]] = set()
    for index, line in enumerate(step.lines):
        where = f"mapping[{index}] ({line.salesforce_field})"
        if (line.salesforce_field.lower(), line.attribute) in keys:
            problem(where, "the line is there twice", "remove one of them")
        keys.add((line.salesforce_field.lower(), line.attribute))
        if line.direction is Direction.OUTBOUND and step.direction is Direction.INBOUND:
            problem(where, "an outbound line never runs in an inbound step", "make it inbound")
        if line.direction is Direction.INBOUND and outbound:
            problem(where, "an inbound line never runs in an outbound step", "make it outbound")
        if outbound and "." in line.salesforce_field:
            problem(
                where,
                "a relationship field cannot be written",
                "map a field of the object itself",
            )
        if step.target is Target.COMPANY and line.attribute not in COMPANY_FIELDS:
            problem(
                where,
                f"{line.attribute!r} is not a company field",
                f"map to one of: {', '.join(COMPANY_FIELDS)}",
            )
    if step.enabled and not any(line.mode is not Mode.DONT_SYNC for line in step.lines):
        problem(
            "mapping",
            "an enabled step needs at least one mapping line",
            f"peoplesync steps map {name!r} --field Email --attribute emails, or disable the step",
        )
    if step.filter.lead_statuses and step.sobject != "Lead":
        problem("filter.lead_statuses", "only Leads have a Lead Status", "remove the statuses")
    if any(not status.strip() for status in step.filter.lead_statuses):
        problem("filter.lead_statuses", "a status is empty", "give the statuses' API values")
    for field_name, part in (
        ("filter.condition", StepFilter(condition=step.filter.condition)),
        ("filter.modified_within_days", StepFilter(None, step.filter.modified_within_days)),
    ):
        try:
            part.soql()
        except PeopleSyncError as error:
            detail = error.detail if isinstance(error, RecordError) else error.message
            problem(field_name, detail, error.hint or "fix the SOQL condition")
    return found


__all__ = [
    "COMPANY_FIELDS",
    "Profile",
    "ProfileError",
    "Step",
    "StepFilter",
    "StepProblem",
    "Target",
    "default_profile",
    "outbound_step",
]
