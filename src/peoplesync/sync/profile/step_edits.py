"""Edits of an integration's sync steps, shared by ``peoplesync steps`` and the web pages.

The decisions (what a new or cloned step looks like, how switches and filters change, what
a mapping line is) are pure functions of the profile; ``edit_profile`` loads the profile,
applies one of them and saves it through ``save_profile``, checked against the org when a
client opener is given (``None`` checks against People only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.conflict_rules import field_rule, with_field_rule
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.model import (
    Profile,
    Step,
    StepFilter,
    Target,
    default_lines,
    on_switches,
    outbound_step,
)
from peoplesync.sync.profile.store import SaveResult, load_profile, save_profile

ClientOpener = Callable[[PeopleStore, str], AbstractAsyncContextManager[SalesforceClient]]
"""Opens a client of the integration named by the second argument."""

Change = Callable[[Profile], Profile]


def added_step(
    profile: Profile,
    *,
    sobject: str | None = None,
    clone: str | None = None,
    name: str | None = None,
    direction: Direction = Direction.INBOUND,
) -> Step:
    """The step ``add`` appends: a copy of ``clone``, or a new step of ``sobject`` with the
    object's shipped mapping (disabled when there is none; outbound steps delete nothing)."""
    if sobject is None and clone is None:
        raise ConfigurationError(
            "say what to add",
            hint="name the Salesforce object the step reads (e.g. Opportunity) or a step to clone",
        )
    if direction is Direction.BOTH:
        raise ConfigurationError(
            "a step runs one way; two-way sync is an inbound step plus an outbound step",
            hint="add the step with direction inbound, then one with direction outbound",
        )
    if clone is not None:
        original = profile.step(clone)
        if sobject is not None and sobject != original.sobject:
            raise ConfigurationError(
                f"step {clone!r} reads {original.sobject}, not {sobject}",
                hint="leave out --object when cloning, or clone a step of that object",
            )
        return dataclasses.replace(original, name=name or profile.free_name(clone))
    assert sobject is not None
    if direction is Direction.OUTBOUND:
        base = "Company to Account" if sobject == "Account" else f"Person to {sobject}"
        return outbound_step(sobject, name=name or profile.free_name(base))
    lines = default_lines(sobject, direction)
    return Step(
        name or profile.free_name(sobject),
        sobject,
        Target.COMPANY if sobject == "Account" else Target.PERSON,
        enabled=bool(lines),
        lines=lines,
    )


def unmapped_hint(step: Step) -> str | None:
    """What to do next when a new step starts disabled for want of a mapping."""
    if step.enabled:
        return None
    return (
        f"step {step.name!r} is disabled until it maps fields: "
        f"peoplesync steps map {step.name!r} --field Email --attribute emails, "
        f"then peoplesync steps enable {step.name!r}"
    )


def changed_filter(
    old: StepFilter,
    *,
    condition: str | None = None,
    days: int | None = None,
    statuses: Sequence[str] | None = None,
    clear_statuses: bool = False,
) -> StepFilter:
    """``old`` with the parts given replaced: ``""`` removes the condition, ``0`` the
    Last Modified window, ``clear_statuses`` the Lead Status list (None keeps a part)."""
    return StepFilter(
        old.condition if condition is None else (condition.strip() or None),
        old.modified_within_days if days is None else (days or None),
        () if clear_statuses else tuple(statuses) if statuses else old.lead_statuses,
    )


def change_step(
    profile: Profile,
    step: str,
    *,
    create: bool | None = None,
    update: bool | None = None,
    delete: bool | None = None,
    step_filter: StepFilter | None = None,
    segment: str | None = None,
) -> Profile:
    """The profile with a step's switches, filter and (outbound) segment changed (None keeps
    what is there; an empty segment name removes it)."""
    profile = profile.set_switches(step, create=create, update=update, delete=delete)
    if segment is not None:
        profile = profile.set_segment(step, segment.strip() or None)
    if step_filter is None or step_filter == profile.step(step).filter:
        return profile
    return profile.set_filter(step, step_filter)


def mapping_line(
    profile: Profile,
    step: str,
    salesforce_field: str,
    attribute: str,
    *,
    mode: Mode = Mode.OVERWRITE,
    on: str = "both",
    direction: Direction | None = None,
    conflict: ConflictRule | None = None,
) -> FieldMapping:
    """A mapping line of ``step``; it flows the step's way unless ``direction`` says. Without
    ``conflict`` it keeps the field's rule (``conflict_rules.field_rule``)."""
    on_create, on_update = on_switches(on)
    return FieldMapping(
        salesforce_field.strip(),
        attribute.strip(),
        direction or profile.step(step).direction,
        mode=mode,
        on_create=on_create,
        on_update=on_update,
        conflict=conflict or field_rule(profile, step, salesforce_field),
    )


def map_line(
    profile: Profile, step: str, line: FieldMapping, *, conflict_everywhere: bool = False
) -> tuple[Profile, list[str]]:
    """The profile with ``line`` set in ``step`` (replacing the field's line); with
    ``conflict_everywhere`` the line's conflict rule goes to the field's lines in the other
    steps of the object too (a field synced both ways has one rule). Also returns the other
    steps whose rule changed."""
    profile = profile.set_line(step, line)
    if not conflict_everywhere:
        return profile, []
    sobject = profile.step(step).sobject
    profile, changed = with_field_rule(profile, sobject, line.salesforce_field, line.conflict)
    return profile, [name for name in changed if name != step]


def set_lines(profile: Profile, step: str, lines: Sequence[FieldMapping]) -> Profile:
    """The profile with a step's whole mapping replaced (in the order given)."""
    found = profile.step(step)
    changed = dataclasses.replace(found, lines=tuple(lines))
    return Profile(tuple(changed if s.name == step else s for s in profile.steps))


def set_lines_and_rules(profile: Profile, step: str, lines: Sequence[FieldMapping]) -> Profile:
    """``set_lines``, and a two-way line whose conflict rule changed gives its field that rule
    in every step of the object (the mapping page's rule is the field's, as with
    ``steps map --conflict``)."""
    found = profile.step(step)
    before = {line.salesforce_field.lower(): line.conflict for line in found.lines}
    changed = set_lines(profile, step, lines)
    for line in lines:
        was = before.get(line.salesforce_field.lower())
        if line.direction is Direction.BOTH and was is not None and was is not line.conflict:
            changed, _ = with_field_rule(
                changed, found.sobject, line.salesforce_field, line.conflict
            )
    return changed


def step_row(step: Step) -> dict[str, Any]:
    """A step as plain data with its composed filter condition (or why it is invalid)."""
    row = step.to_dict()
    try:
        row["condition"] = step.filter.soql()
    except PeopleSyncError as error:
        row["condition"] = f"(invalid: {error.message})"
    return row


async def save_checked(
    store: PeopleStore,
    opener: ClientOpener | None,
    profile: Profile,
    integration: str,
    *,
    dry_run: bool = False,
) -> SaveResult:
    """Check and save ``profile``; against the org when ``opener`` is given."""
    if opener is None:
        return await save_profile(store, None, profile, integration=integration, dry_run=dry_run)
    async with opener(store, integration) as client:
        return await save_profile(store, client, profile, integration=integration, dry_run=dry_run)


async def edit_profile(
    store: PeopleStore, opener: ClientOpener | None, integration: str, change: Change
) -> tuple[Profile, SaveResult]:
    """Load the integration's profile, change it, check it and save it (nothing is saved when
    a check fails: ``ProfileError`` names every step and field at fault)."""
    profile = change(await load_profile(store, integration))
    return profile, await save_checked(store, opener, profile, integration)


__all__ = [
    "ClientOpener",
    "added_step",
    "change_step",
    "changed_filter",
    "edit_profile",
    "map_line",
    "mapping_line",
    "save_checked",
    "set_lines",
    "set_lines_and_rules",
    "step_row",
    "unmapped_hint",
]
