"""Sync profiles: an integration's steps, with their mappings, switches and filters, as data.

A step is (Salesforce object, People target, direction) with create / update / delete switches,
mapping lines and an inbound filter. A profile is the ordered list of steps. Everything here
is pure: operations return a new profile, ``problems`` lists what is wrong (each problem names
the step and the field), and ``to_dict`` (read back by ``profile_format``) and YAML give
configuration as code.
Checks that need the People store or the org live in ``profile_store``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.errors import ConfigurationError
from peoplesync.sync.inbound.company import ACCOUNT_MAPPING
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, ConflictRule, Direction, FieldMapping
from peoplesync.sync.outbound.account_plan import ACCOUNT_OUTBOUND
from peoplesync.sync.outbound.plan import OUTBOUND_MAPPINGS
from peoplesync.sync.outbound.runner import OutboundStep
from peoplesync.sync.profile.step import (
    COMPANY_FIELDS,
    ON_SWITCHES,
    OUTBOUND_OBJECTS,
    ProfileError,
    Step,
    StepFilter,
    StepProblem,
    Target,
    on_switches,
)
from peoplesync.sync.profile.step_problems import step_problems

FORMAT_VERSION = 1


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
                web_hint=f"use one of: {', '.join(self.names()) or '(none)'} (the Steps page)",
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
            found += step_problems(step)
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
                    web_hint=f"switch Create off for step {extra!r} on the Steps page (or PATCH "
                    'the step with "create": false)',
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
        """Plain data for storage and YAML (``profile_format.read_profile`` reads it back)."""
        return {"version": FORMAT_VERSION, "steps": [step.to_dict() for step in self.steps]}


__all__ = [
    "COMPANY_FIELDS",
    "FORMAT_VERSION",
    "ON_SWITCHES",
    "OUTBOUND_OBJECTS",
    "Profile",
    "ProfileError",
    "Step",
    "StepFilter",
    "StepProblem",
    "Target",
    "default_lines",
    "default_profile",
    "on_switches",
    "outbound_step",
    "two_way_lines",
]
