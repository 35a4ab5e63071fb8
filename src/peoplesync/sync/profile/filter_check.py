"""A step's filter checked part by part: the SOQL condition, the Last Modified window and the
Lead Statuses, each problem naming its part (``filter.condition``...).

Against the org, the composed condition runs once with ``LIMIT 1``; only when Salesforce
rejects it is each part run alone, to name the part at fault. Lead Statuses are also checked
against the picklist values of ``Lead.Status`` in the describe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.profile.model import Profile, Step, StepFilter, StepProblem
from peoplesync.sync.profile.step_filter import validate_filter

PARTS = ("condition", "modified_within_days", "lead_statuses")


def only_part(step_filter: StepFilter, part: str) -> StepFilter:
    """The filter with every part but ``part`` left out."""
    if part not in PARTS:
        raise ConfigurationError(f"unknown filter part {part!r}", hint=f"use one of {PARTS}")
    return StepFilter(
        step_filter.condition if part == "condition" else None,
        step_filter.modified_within_days if part == "modified_within_days" else None,
        step_filter.lead_statuses if part == "lead_statuses" else (),
    )


def pure_problems(step: Step, part: str | None = None) -> list[StepProblem]:
    """What is wrong with the step's filter (or one part of it) without asking the org."""
    checked = step
    if part is not None:
        checked = dataclasses.replace(step, filter=only_part(step.filter, part))
    wanted = {f"filter.{p}" for p in (PARTS if part is None else (part,))} | {"filter"}
    return [p for p in Profile((checked,)).problems() if p.field in wanted]


def _status_problems(step: Step, describe: Mapping[str, Any]) -> list[StepProblem]:
    statuses = step.filter.lead_statuses
    if not statuses or step.sobject != "Lead":
        return []
    meta = next((f for f in describe.get("fields", []) if f.get("name") == "Status"), None)
    values = [str(v["value"]) for v in (meta or {}).get("picklistValues") or [] if v.get("active")]
    if not values:
        return []
    unknown = [s for s in statuses if s not in values]
    if not unknown:
        return []
    return [
        StepProblem(
            step.name,
            "filter.lead_statuses",
            f"Lead Status has no value {', '.join(repr(s) for s in unknown)}",
            hint=f"use one of: {', '.join(values)}",
        )
    ]


async def _rejection(client: SalesforceClient, step: Step, part: str | None) -> str | None:
    step_filter = step.filter if part is None else only_part(step.filter, part)
    try:
        condition = step_filter.soql()
    except PeopleSyncError:
        return None  # a pure problem, reported already
    if not condition:
        return None
    try:
        await validate_filter(client, step.sobject, condition)
    except ConfigurationError as error:
        return error.message
    return None


async def org_problems(
    client: SalesforceClient, step: Step, describe: Mapping[str, Any], part: str | None = None
) -> list[StepProblem]:
    """What the org finds wrong with the step's filter (or one part): unknown Lead Statuses,
    and a condition Salesforce rejects, named by the part that fails alone."""
    found = [] if part not in (None, "lead_statuses") else _status_problems(step, describe)
    whole = await _rejection(client, step, part)
    if whole is None:
        return found
    for each in PARTS if part is None else (part,):
        message = whole if part is not None else await _rejection(client, step, each)
        if message is not None:
            found.append(
                StepProblem(
                    step.name,
                    f"filter.{each}",
                    message,
                    hint="fix it; a condition is the part of a SOQL query after WHERE",
                )
            )
    if part is None and not any(p.field.startswith("filter.") for p in found):
        found.append(StepProblem(step.name, "filter", whole, hint="fix the filter"))
    return found


__all__ = ["PARTS", "only_part", "org_problems", "pure_problems"]
