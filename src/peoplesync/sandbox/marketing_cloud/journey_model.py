"""A sandbox journey read from YAML into dataclasses, checked without I/O.

The format (docs/marketing-cloud.md has an example)::

    name: spring-sms
    entry:
      data_extension: SampleAudience       # external key of the entry data extension
      event_definition_key: DEAudience-spring  # {{Event.<this>."Field"}} reads the row
      contact_key: ContactKey              # field holding the contact key (else the first
                                           # primary key field)
    activities:                            # the first one is where contacts enter
      - key: SMS-1
        type: custom                       # a custom activity: REST or RESTDECISION
        config_url: https://host/journey/acme/message/config.json
        in_arguments: [{channel: sms}, {phone: '{{Event.DEAudience-spring."Mobile"}}'}]
        next: WAIT-1                       # absent or null: the contact exits
      - key: WAIT-1
        type: wait
        seconds: 30
        next: REPLY-1
      - key: REPLY-1
        type: wait_until_event
        event_definition_key: Reply
        timeout_seconds: 60
        next: SPLIT-1                      # the event arrived
        timeout_next: null                 # it did not (defaults to next)
      - key: SPLIT-1
        type: decision_split
        branches:
          - label: delivered
            when: {value: '{{Interaction.REPORTS-1.statusGroupName}}', equals: DELIVERED}
            next: null
          - label: remainder               # the last branch has no condition
            next: null

A RESTDECISION custom activity routes on its ``branchResult`` through ``outcomes``
(``{DELIVERED: NEXT-KEY, ...}``; an outcome it does not list ejects nothing, the contact
exits there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACTIVITY_TYPES = ("custom", "wait", "wait_until_event", "decision_split")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_OPERATORS = ("equals", "not_equals", "starts_with", "in", "is_empty", "is_not_empty")


class JourneyProblem(Exception):
    """A journey the runner cannot run: the message names the activity and field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Condition:
    """``value`` (usually one binding) compared by ``operator`` with ``operand``."""

    value: str
    operator: str
    operand: tuple[str, ...] = ()


@dataclass(frozen=True)
class Branch:
    label: str
    next: str | None
    when: Condition | None = None  # None: the remainder branch


@dataclass(frozen=True)
class Activity:
    key: str
    type: str
    next: str | None = None
    config_url: str = ""
    in_arguments: tuple[Mapping[str, Any], ...] = ()
    outcomes: Mapping[str, str | None] = field(default_factory=dict)
    seconds: float = 0.0
    event_definition_key: str = ""
    timeout_next: str | None = None
    branches: tuple[Branch, ...] = ()

    def targets(self) -> list[str]:
        """Every activity a contact may go to from here."""
        found = [self.next, self.timeout_next, *self.outcomes.values()]
        found += [branch.next for branch in self.branches]
        return [each for each in found if each]


@dataclass(frozen=True)
class Entry:
    data_extension: str
    event_definition_key: str
    contact_key: str = ""


@dataclass(frozen=True)
class Journey:
    name: str
    entry: Entry
    activities: tuple[Activity, ...]

    @property
    def first(self) -> Activity:
        return self.activities[0]

    def activity(self, key: str) -> Activity:
        return next(each for each in self.activities if each.key == key)


def load_journey(data: object) -> Journey:
    """The journey a parsed YAML document describes, or ``JourneyProblem``."""
    if not isinstance(data, Mapping):
        raise JourneyProblem("the journey file must hold a mapping (name, entry, activities)")
    name = _text(data, "name", "journey")
    if not _KEY.match(name):
        raise JourneyProblem(f"journey: name {name!r} takes letters, digits, - and _ only")
    entry = _entry(data.get("entry"), name)
    raw = data.get("activities")
    if not isinstance(raw, list) or not raw:
        raise JourneyProblem("journey: activities must be a non-empty list")
    activities = tuple(_activity(each, index) for index, each in enumerate(raw))
    keys = [each.key for each in activities]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise JourneyProblem(f"activities: key {twice[0]} is used twice")
    for activity in activities:
        for target in activity.targets():
            if target not in keys:
                raise JourneyProblem(
                    f"activity {activity.key}: goes to {target}, which is not an activity"
                )
    journey = Journey(name, entry, activities)
    _no_loops(journey)
    return journey


def _entry(raw: object, name: str) -> Entry:
    if not isinstance(raw, Mapping):
        raise JourneyProblem("entry: must be a mapping with data_extension")
    key = str(raw.get("event_definition_key") or f"DEAudience-{name}")
    if "." in key:
        raise JourneyProblem("entry: event_definition_key must not contain a period")
    return Entry(
        data_extension=_text(raw, "data_extension", "entry"),
        event_definition_key=key,
        contact_key=str(raw.get("contact_key") or ""),
    )


def _activity(raw: object, index: int) -> Activity:
    if not isinstance(raw, Mapping):
        raise JourneyProblem(f"activities[{index}]: must be a mapping")
    key = _text(raw, "key", f"activities[{index}]")
    where = f"activity {key}"
    if not _KEY.match(key):
        raise JourneyProblem(f"{where}: key takes letters, digits, - and _ only")
    kind = _text(raw, "type", where)
    if kind not in ACTIVITY_TYPES:
        raise JourneyProblem(f"{where}: type {kind!r} is not one of {', '.join(ACTIVITY_TYPES)}")
    nxt = _target(raw, "next", where)
    if kind == "custom":
        url = _text(raw, "config_url", where)
        if not url.startswith(("http://", "https://")):
            raise JourneyProblem(f"{where}: config_url must be an http(s) URL")
        outcomes = raw.get("outcomes") or {}
        if not isinstance(outcomes, Mapping):
            raise JourneyProblem(f"{where}: outcomes must map a branchResult to an activity")
        return Activity(
            key,
            kind,
            nxt,
            config_url=url,
            in_arguments=_arguments(raw.get("in_arguments"), where),
            outcomes={str(k): (str(v) if v else None) for k, v in outcomes.items()},
        )
    if kind == "wait":
        return Activity(key, kind, nxt, seconds=_seconds(raw, "seconds", where))
    if kind == "wait_until_event":
        return Activity(
            key,
            kind,
            nxt,
            seconds=_seconds(raw, "timeout_seconds", where),
            event_definition_key=_text(raw, "event_definition_key", where),
            timeout_next=_target(raw, "timeout_next", where) if "timeout_next" in raw else nxt,
        )
    return Activity(key, kind, None, branches=_branches(raw.get("branches"), where))


def _branches(raw: object, where: str) -> tuple[Branch, ...]:
    if not isinstance(raw, list) or not raw:
        raise JourneyProblem(f"{where}: branches must be a non-empty list")
    branches = []
    for index, each in enumerate(raw):
        place = f"{where} branches[{index}]"
        if not isinstance(each, Mapping):
            raise JourneyProblem(f"{place}: must be a mapping with label and next")
        label = _text(each, "label", place)
        when = each.get("when")
        last = index == len(raw) - 1
        if when is None and not last:
            raise JourneyProblem(f"{place}: only the last branch may have no condition (when)")
        if when is not None and last:
            raise JourneyProblem(f"{place}: the last branch is the remainder: drop its when")
        branches.append(Branch(label, _target(each, "next", place), _condition(when, place)))
    return tuple(branches)


def _condition(raw: object, where: str) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise JourneyProblem(f"{where}: when must be a mapping with value and an operator")
    value = _text(raw, "value", f"{where} when")
    operators = [name for name in _OPERATORS if name in raw]
    if len(operators) != 1:
        raise JourneyProblem(f"{where} when: give exactly one of {', '.join(_OPERATORS)}")
    operator = operators[0]
    operand = raw[operator]
    if operator == "in":
        if not isinstance(operand, list) or not operand:
            raise JourneyProblem(f"{where} when: in takes a non-empty list")
        values = tuple(str(each) for each in operand)
    elif operator in ("is_empty", "is_not_empty"):
        values = ()
    else:
        values = (str(operand),)
    return Condition(value, operator, values)


def _arguments(raw: object, where: str) -> tuple[Mapping[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(
        isinstance(each, Mapping) and len(each) == 1 for each in raw
    ):
        raise JourneyProblem(f"{where}: in_arguments must be a list of single-key mappings")
    return tuple(dict(each) for each in raw)


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise JourneyProblem(f"{where}: {name} is required (text)")
    return value.strip()


def _target(raw: Mapping[str, Any], name: str, where: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise JourneyProblem(f"{where}: {name} must be an activity key or null")
    return value


def _seconds(raw: Mapping[str, Any], name: str, where: str) -> float:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise JourneyProblem(f"{where}: {name} must be a number of seconds, 0 or more")
    return float(value)


def _no_loops(journey: Journey) -> None:
    """Journey Builder has no loops: a contact moves forward only."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(key: str) -> None:
        state[key] = 1
        for target in journey.activity(key).targets():
            if state.get(target) == 1:
                raise JourneyProblem(f"activity {key}: going to {target} makes a loop")
            if target not in state:
                visit(target)
        state[key] = 2

    visit(journey.first.key)
