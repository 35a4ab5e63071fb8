"""What is wrong with one step of a profile, each problem naming the step and the field."""

from __future__ import annotations

import re

from peoplesync.errors import PeopleSyncError, RecordError
from peoplesync.sync.mapping import Direction, Mode
from peoplesync.sync.profile.step import (
    COMPANY_FIELDS,
    OUTBOUND_OBJECTS,
    Step,
    StepFilter,
    StepProblem,
    Target,
)

_STEP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def step_problems(step: Step) -> list[StepProblem]:
    """Every problem of ``step`` on its own (name, object, direction, lines, filter)."""
    name = step.name
    found: list[StepProblem] = []

    def problem(field_name: str, message: str, hint: str, web_hint: str = "") -> None:
        found.append(StepProblem(name, field_name, message, hint=hint, web_hint=web_hint))

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
            "add a line on the step's page (e.g. Email to emails), or disable the step",
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
