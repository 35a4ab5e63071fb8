"""Sync profiles as plain data and YAML: strict reading that reports every problem at once.

Each problem names the step (by name, or by position when the name is missing) and the field
path inside it (``filter.modified_within_days``, ``mapping[3].mode``), so a hand-edited file
is fixed in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

import yaml

from peoplesync.errors import ConfigurationError
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.model import (
    FORMAT_VERSION,
    ON_SWITCHES,
    Profile,
    ProfileError,
    Step,
    StepFilter,
    StepProblem,
    Target,
)
from peoplesync.sync.profile.schedule import read_schedule

E = TypeVar("E", bound=StrEnum)

# --- reading plain data ----------------------------------------------------------------------

_STEP_KEYS = frozenset(
    {"name", "sobject", "target", "direction", "enabled", "create", "update", "delete"}
    | {"filter", "mapping", "segment", "awaiting_review", "schedule"}
)
_FILTER_KEYS = frozenset({"condition", "modified_within_days", "lead_statuses"})
_LINE_KEYS = frozenset({"field", "attribute", "mode", "when", "direction", "conflict"})


class _Reader:
    """Typed reads from plain data that record problems instead of raising."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.problems: list[StepProblem] = []

    def fail(self, field_name: str, message: str, hint: str) -> None:
        self.problems.append(StepProblem(self.step, field_name, message, hint=hint))

    def keys(self, data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                self.fail(
                    f"{where}{key}", "unknown key", f"use one of: {', '.join(sorted(allowed))}"
                )

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(where + key, f"expected text, got {value!r}", "quote the value")
            return None
        return value

    def flag(self, data: Mapping[str, Any], key: str, default: bool = True) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}", "write true or false")
            return default
        return value

    def choice(
        self, data: Mapping[str, Any], key: str, kind: type[E], default: E, where: str = ""
    ) -> E:
        value = data.get(key)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            self.fail(
                where + key,
                f"{value!r} is not one of {', '.join(k.value for k in kind)}",
                f"use one of: {', '.join(k.value for k in kind)}",
            )
            return default


def read_profile(data: Any) -> Profile:
    """A profile from plain data (parsed YAML or stored JSON), or a ProfileError."""
    top = _Reader("(profile)")
    if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
        raise ProfileError(
            [
                StepProblem(
                    "(profile)",
                    "steps",
                    "expected a mapping with a list of steps",
                    hint="start the file with 'steps:' followed by '- name: ...' items",
                )
            ]
        )
    top.keys(data, frozenset({"version", "steps"}), "")
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        top.fail("version", f"unknown version {data['version']!r}", f"use {FORMAT_VERSION}")
    problems = top.problems
    steps: list[Step] = []
    for index, item in enumerate(data["steps"]):
        label = item.get("name") if isinstance(item, Mapping) else None
        reader = _Reader(label if isinstance(label, str) else f"#{index + 1}")
        step = _read_step(item, reader)
        problems += reader.problems
        if step is not None:
            steps.append(step)
    if problems:
        raise ProfileError(problems)
    return Profile(tuple(steps))


def _read_step(item: Any, reader: _Reader) -> Step | None:
    if not isinstance(item, Mapping):
        reader.fail("(step)", f"expected a mapping, got {item!r}", "write the step as 'key: value'")
        return None
    reader.keys(item, _STEP_KEYS, "")
    name = reader.text(item, "name")
    sobject = reader.text(item, "sobject")
    for key, value in (("name", name), ("sobject", sobject)):
        if not value:
            reader.fail(key, "missing", f"give the step a {key}")
    filters = item.get("filter") or {}
    if not isinstance(filters, Mapping):
        reader.fail("filter", "expected a mapping", "e.g. filter: {condition: \"Rating = 'Hot'\"}")
        filters = {}
    reader.keys(filters, _FILTER_KEYS, "filter.")
    days = filters.get("modified_within_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        reader.fail("filter.modified_within_days", f"expected a whole number, got {days!r}", "")
        days = None
    statuses = filters.get("lead_statuses") or []
    if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
        reader.fail("filter.lead_statuses", "expected a list of texts", "e.g. [Working]")
        statuses = []
    direction = reader.choice(item, "direction", Direction, Direction.INBOUND)
    # A line without a direction flows the way its step does.
    line_default = Direction.OUTBOUND if direction is Direction.OUTBOUND else Direction.INBOUND
    lines = _read_lines(item.get("mapping") or [], reader, line_default)
    schedule, found = (None, []) if "schedule" not in item else read_schedule(item["schedule"])
    for problem in found:
        reader.fail(problem.field, problem.message, problem.hint)
    if not name or not sobject:
        return None
    # Outbound steps create only Leads and delete nothing unless told (see profile.py).
    outbound = direction is Direction.OUTBOUND
    return Step(
        name=name,
        sobject=sobject,
        target=reader.choice(item, "target", Target, Target.PERSON),
        direction=direction,
        enabled=reader.flag(item, "enabled"),
        create=reader.flag(item, "create", not outbound or sobject == "Lead"),
        update=reader.flag(item, "update"),
        delete=reader.flag(item, "delete", not outbound),
        lines=lines,
        filter=StepFilter(reader.text(filters, "condition", "filter."), days, tuple(statuses)),
        segment=reader.text(item, "segment"),
        awaiting_review=reader.flag(item, "awaiting_review", False),
        schedule=schedule,
    )


def _read_lines(
    data: Any, reader: _Reader, direction: Direction = Direction.INBOUND
) -> tuple[FieldMapping, ...]:
    if not isinstance(data, list):
        reader.fail(
            "mapping", "expected a list of lines", "e.g. - {field: Email, attribute: emails}"
        )
        return ()
    lines: list[FieldMapping] = []
    for index, item in enumerate(data):
        where = f"mapping[{index}]."
        if not isinstance(item, Mapping):
            reader.fail(where[:-1], "expected 'field' and 'attribute'", "")
            continue
        reader.keys(item, _LINE_KEYS, where)
        salesforce_field = reader.text(item, "field", where)
        attribute = reader.text(item, "attribute", where)
        if not salesforce_field or not attribute:
            reader.fail(where[:-1], "a line needs a field and an attribute", "add both")
            continue
        on = item.get("when", "both")
        if on not in ON_SWITCHES:
            reader.fail(where + "when", f"{on!r} is not create, update or both", "")
            on = "both"
        on_create, on_update = ON_SWITCHES[on]
        lines.append(
            FieldMapping(
                salesforce_field,
                attribute,
                reader.choice(item, "direction", Direction, direction, where),
                reader.choice(item, "mode", Mode, Mode.OVERWRITE, where),
                on_create,
                on_update,
                reader.choice(item, "conflict", ConflictRule, ConflictRule.MOST_RECENT, where),
            )
        )
    return tuple(lines)


# --- YAML ------------------------------------------------------------------------------------


def profile_to_yaml(profile: Profile, integration: str = "default") -> str:
    """The profile as a YAML document (configuration as code)."""
    header = (
        f"# peoplesync sync profile of integration {integration!r}\n"
        "# Apply with: peoplesync config import FILE [--dry-run]\n"
    )
    return header + yaml.safe_dump(profile.to_dict(), sort_keys=False, allow_unicode=True)


def profile_from_yaml(text: str) -> Profile:
    """A profile from a YAML document; malformed YAML is a clear configuration error."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationError(
            f"the file is not valid YAML{where}", hint="fix the indentation or quoting there"
        ) from None
    return read_profile(data)


__all__ = ["profile_from_yaml", "profile_to_yaml", "read_profile"]
