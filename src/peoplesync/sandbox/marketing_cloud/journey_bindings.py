"""Journey Builder's data bindings (``{{Contact.Key}}``, ``{{Event.<key>."Field"}}``, ...)
resolved for one contact, and decision splits routed on them. No I/O.

Supported: ``Contact.Key``, ``Contact.Attribute.<set>.<field>`` (the set is the entry data
extension, by name or key), ``Event.<eventDefinitionKey>.<field>``,
``Interaction.<activityKey>.<outArgument>``, ``Context.<name>`` and ``Activity.Id``. A name
with spaces or periods is quoted (``"First Name"``). Names are compared with case, as Journey
Builder does; a binding that finds nothing resolves to an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peoplesync.sandbox.marketing_cloud.journey_model import (
    Branch,
    Condition,
    Journey,
    JourneyProblem,
)

_BINDING = re.compile(r"\{\{([^{}]+)\}\}")
_PART = re.compile(r'\s*(?:"([^"]*)"|([^."]+))\s*(?:\.|$)')


@dataclass(frozen=True)
class ContactData:
    """What the bindings of one contact read."""

    contact_key: str
    event_key: str  # the entry's event definition key
    entry_names: tuple[str, ...]  # the entry data extension's name and key
    row: Mapping[str, Any]
    context: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    activity_id: str = ""


def parts(path: str) -> list[str]:
    """``Event.DEAudience-1."First Name"`` -> ``["Event", "DEAudience-1", "First Name"]``."""
    found: list[str] = []
    position = 0
    text = path.strip()
    while position < len(text):
        match = _PART.match(text, position)
        if match is None or match.end() == position:
            raise JourneyProblem(f"binding {{{{{path}}}}} is not a dotted path")
        found.append(match.group(1) if match.group(1) is not None else match.group(2).strip())
        position = match.end()
    if not found:
        raise JourneyProblem("an empty binding {{}}")
    return found


def check_bindings(value: object, where: str) -> None:
    """Raise ``JourneyProblem`` naming ``where`` when a binding in ``value`` cannot parse."""
    if isinstance(value, str):
        for match in _BINDING.finditer(value):
            try:
                found = parts(match.group(1))
            except JourneyProblem as problem:
                raise JourneyProblem(f"{where}: {problem.message}") from None
            if found[0] not in ("Contact", "Event", "Interaction", "Context", "Activity"):
                raise JourneyProblem(
                    f"{where}: binding {match.group(0)} starts with {found[0]}, not Contact, "
                    "Event, Interaction, Context or Activity"
                )


def check_journey(journey: Journey) -> None:
    """Every binding of a journey parses (in-arguments and split conditions)."""
    for activity in journey.activities:
        for each in activity.in_arguments:
            for name, value in each.items():
                check_bindings(value, f"activity {activity.key} in_arguments.{name}")
        for branch in activity.branches:
            if branch.when is not None:
                check_bindings(
                    branch.when.value, f"activity {activity.key} branch {branch.label} when.value"
                )


def lookup(path: list[str], data: ContactData) -> Any:
    """The value one binding path names for this contact (``""`` when there is none)."""
    head, rest = path[0], path[1:]
    if head == "Contact" and rest == ["Key"]:
        return data.contact_key
    if head == "Contact" and len(rest) == 3 and rest[0] == "Attribute":
        return data.row.get(rest[2], "") if rest[1] in data.entry_names else ""
    if head == "Event" and len(rest) == 2:
        return data.row.get(rest[1], "") if rest[0] == data.event_key else ""
    if head == "Interaction" and len(rest) == 2:
        return data.outputs.get(rest[0], {}).get(rest[1], "")
    if head == "Context" and len(rest) == 1:
        return data.context.get(rest[0], "")
    if head == "Activity" and rest == ["Id"]:
        return data.activity_id
    return ""


def resolve(value: Any, data: ContactData) -> Any:
    """``value`` with its bindings filled in; a string that is one binding keeps the value's
    type, text around bindings makes a string."""
    if not isinstance(value, str) or "{{" not in value:
        return value
    whole = _BINDING.fullmatch(value.strip())
    if whole:
        found = lookup(parts(whole.group(1)), data)
        return "" if found is None else found
    return _BINDING.sub(lambda match: _text(lookup(parts(match.group(1)), data)), value)


def resolve_arguments(
    arguments: tuple[Mapping[str, Any], ...], data: ContactData
) -> list[dict[str, Any]]:
    """The activity's in-arguments as Journey Builder sends them for this contact."""
    return [{name: resolve(value, data) for name, value in each.items()} for each in arguments]


def holds(condition: Condition, data: ContactData) -> bool:
    """Whether a split's condition holds for this contact (compared as text)."""
    value = _text(resolve(condition.value, data)).strip()
    if condition.operator == "equals":
        return value == condition.operand[0]
    if condition.operator == "not_equals":
        return value != condition.operand[0]
    if condition.operator == "starts_with":
        return value.startswith(condition.operand[0])
    if condition.operator == "in":
        return value in condition.operand
    if condition.operator == "is_empty":
        return value == ""
    return value != ""


def route(branches: tuple[Branch, ...], data: ContactData) -> Branch:
    """The first branch whose condition holds; the last (remainder) branch otherwise."""
    for branch in branches:
        if branch.when is None or holds(branch.when, data):
            return branch
    return branches[-1]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
