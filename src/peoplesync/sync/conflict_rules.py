"""One conflict rule per two-way field. All pure.

A field of an object that an inbound step and an outbound step both map is synced both ways;
each direction settles a conflict with its own step's line (``conflict.settle``), so both
lines must carry the same rule, or the inbound sync and the push would each let their own
side win. ``rule_problems`` finds the fields where they differ (checked when a profile is
saved); ``field_rule`` and ``with_field_rule`` let one edit give a field its rule in every
step of the object at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.model import Profile, Step, StepProblem


def _flows(step: Step, line: FieldMapping) -> bool:
    """Whether ``line`` moves values in ``step``'s direction."""
    return line.mode is not Mode.DONT_SYNC and line.direction in (step.direction, Direction.BOTH)


def _mapped(steps: Sequence[Step], sobject: str, key: str) -> Iterator[tuple[Step, FieldMapping]]:
    for step in steps:
        if step.sobject != sobject:
            continue
        for line in step.lines:
            if line.salesforce_field.lower() == key and _flows(step, line):
                yield step, line


def rule_problems(steps: Sequence[Step]) -> list[StepProblem]:
    """A problem for each field mapped by an enabled inbound step and an enabled outbound step
    of the same object with different conflict rules, naming both steps and both rules."""
    enabled = [s for s in steps if s.enabled]
    found: list[StepProblem] = []
    for outbound in enabled:
        if outbound.direction is not Direction.OUTBOUND:
            continue
        reported: set[tuple[str, str]] = set()
        for index, line in enumerate(outbound.lines):
            key = line.salesforce_field.lower()
            if not _flows(outbound, line):
                continue
            for inbound, other in _mapped(enabled, outbound.sobject, key):
                if inbound.direction is not Direction.INBOUND or other.conflict is line.conflict:
                    continue
                if (inbound.name, key) in reported:
                    continue
                reported.add((inbound.name, key))
                found.append(
                    StepProblem(
                        outbound.name,
                        f"mapping[{index}] ({line.salesforce_field})",
                        f"{line.salesforce_field} is synced both ways with step "
                        f"{inbound.name!r}, whose conflict rule is {other.conflict.value}, "
                        f"and here it is {line.conflict.value}; both directions must decide "
                        "a conflict alike",
                        hint=f"give both lines one rule: peoplesync steps map {outbound.name!r} "
                        f"--field {line.salesforce_field} --attribute {line.attribute} "
                        f"--conflict {other.conflict.value} (sets it in every step of "
                        f"{outbound.sobject})",
                        web_hint=f"choose {other.conflict.value} as the line's conflict rule "
                        f"on the step's page (it sets it in every step of {outbound.sobject})",
                    )
                )
    return found


def field_rule(profile: Profile, step: str, salesforce_field: str) -> ConflictRule:
    """The rule a new line for the field in ``step`` keeps: the step's own line's, else the
    one the field has in another step of the object, else most recent."""
    found = profile.step(step)
    key = salesforce_field.strip().lower()
    own = [line for line in found.lines if line.salesforce_field.lower() == key]
    if own:
        return own[0].conflict
    others = [
        line
        for other in profile.steps
        if other.sobject == found.sobject and other.name != step
        for line in other.lines
        if line.salesforce_field.lower() == key and line.mode is not Mode.DONT_SYNC
    ]
    return others[0].conflict if others else ConflictRule.MOST_RECENT


def with_field_rule(
    profile: Profile, sobject: str, salesforce_field: str, rule: ConflictRule
) -> tuple[Profile, list[str]]:
    """The profile with ``rule`` on every line of the field in the object's steps, and the
    names of the steps whose lines changed."""
    key = salesforce_field.strip().lower()
    changed: list[str] = []
    steps: list[Step] = []
    for step in profile.steps:
        if step.sobject == sobject and any(
            line.salesforce_field.lower() == key and line.conflict is not rule
            for line in step.lines
        ):
            changed.append(step.name)
            step = dataclasses.replace(
                step,
                lines=tuple(
                    dataclasses.replace(line, conflict=rule)
                    if line.salesforce_field.lower() == key
                    else line
                    for line in step.lines
                ),
            )
        steps.append(step)
    return Profile(tuple(steps)), changed


__all__ = ["field_rule", "rule_problems", "with_field_rule"]
