"""The step page's forms read back: mapping rows (shown and sent) into mapping lines, and the
filter parts, each with what is wrong with it by line or part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.datastructures import FormData

from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.filter_check import PARTS
from peoplesync.sync.profile.model import Profile, Step, StepFilter, StepProblem
from peoplesync.sync.profile.step_edits import mapping_line
from peoplesync.web.step_forms import MAX_LINES, Row


def shown_rows(lines: Sequence[FieldMapping]) -> list[Row]:
    """A step's mapping lines as the form's rows."""
    return [
        {
            "field": line.salesforce_field,
            "attribute": line.attribute,
            "mode": line.mode.value,
            "create": line.on_create,
            "update": line.on_update,
            "direction": line.direction.value,
            "conflict": line.conflict.value,
        }
        for line in lines
    ]


def form_rows(form: Mapping[str, str], step: Step) -> list[Row]:
    """The rows the form sent (removed and empty ones left out)."""
    try:
        count = min(int(form.get("rows", "0")), MAX_LINES)
    except ValueError:
        count = 0
    rows: list[Row] = []
    for i in range(count):
        if form.get(f"remove_{i}"):
            continue
        row = {
            "field": form.get(f"field_{i}", "").strip(),
            "attribute": form.get(f"attribute_{i}", "").strip(),
            "mode": form.get(f"mode_{i}", Mode.OVERWRITE.value),
            "create": bool(form.get(f"create_{i}")),
            "update": bool(form.get(f"update_{i}")),
            "direction": form.get(f"direction_{i}", step.direction.value),
            "conflict": form.get(f"conflict_{i}", ConflictRule.MOST_RECENT.value),
        }
        if row["field"] or row["attribute"]:
            rows.append(row)
    return rows


def row_lines(
    profile: Profile, step: Step, rows: Sequence[Row]
) -> tuple[list[FieldMapping], dict[int, list[str]]]:
    """Mapping lines from the form's rows, and what is wrong with rows that make none."""
    lines: list[FieldMapping] = []
    errors: dict[int, list[str]] = {}
    for i, row in enumerate(rows):
        problems = []
        if not row["field"] or not row["attribute"]:
            problems.append("a line needs a Salesforce field and a People attribute")
        for key, kind in (("mode", Mode), ("direction", Direction), ("conflict", ConflictRule)):
            if row[key] not in {k.value for k in kind}:
                problems.append(f"{key}: {row[key]!r} is not one of {', '.join(kind)}")
        if not (row["create"] or row["update"]):
            problems.append("tick create, update or both (or set the mode to Don't sync)")
        if problems:
            errors[i] = [f"mapping[{i}] ({row['field'] or '?'}): {p}" for p in problems]
            continue
        on = "both" if row["create"] and row["update"] else "create" if row["create"] else "update"
        lines.append(
            mapping_line(
                profile,
                step.name,
                row["field"],
                row["attribute"],
                mode=Mode(row["mode"]),
                on=on,
                direction=Direction(row["direction"]),
                conflict=ConflictRule(row["conflict"]),
            )
        )
    return lines, errors


def filter_texts(step_filter: StepFilter) -> dict[str, str]:
    """A step's filter as the form's texts."""
    days = step_filter.modified_within_days
    return {
        "condition": step_filter.condition or "",
        "modified_within_days": "" if days is None else str(days),
        "lead_statuses": "\n".join(step_filter.lead_statuses),
    }


def form_filter(form: FormData) -> tuple[StepFilter, dict[str, str]]:
    """The filter the form sent, and what is wrong with its parts by part."""
    errors: dict[str, str] = {}
    raw_days = form.get("modified_within_days")
    days: int | None = None
    if isinstance(raw_days, str) and raw_days.strip():
        try:
            days = int(raw_days.strip())
        except ValueError:
            errors["modified_within_days"] = (
                f"filter.modified_within_days: {raw_days.strip()!r} is not a whole number of days"
            )
    statuses: list[str] = []
    for value in form.getlist("lead_statuses"):
        if isinstance(value, str):
            statuses += [s.strip() for s in value.splitlines() if s.strip()]
    condition = form.get("condition")
    text = condition.strip() if isinstance(condition, str) else ""
    return StepFilter(text or None, days or None, tuple(dict.fromkeys(statuses))), errors


def filter_problems(problems: Sequence[StepProblem]) -> dict[str, str]:
    """A saved filter's problems by the form part they belong to."""
    errors: dict[str, str] = {}
    for problem in problems:
        part = problem.field.removeprefix("filter.")
        key = part if part in PARTS else "condition"
        hint = problem.hint_on_web
        text = f"{problem.field}: {problem.detail}" + (f" ({hint})" if hint else "")
        errors[key] = f"{errors[key]}; {text}" if key in errors else text
    return errors
