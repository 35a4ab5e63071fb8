"""Where an integration's sync profile is kept, and the checks that run before it is saved.

The profile lives as JSON in the sync state table under ``profile:<integration>``; an
integration without one runs the default profile. ``save_profile`` is the Python API behind
``peoplesync steps`` and ``peoplesync config import``: it checks every step (names, switches,
filters, mapping targets against People's attributes and, given a client, mapping fields
against the object's describe and each filter against the org itself), and saves nothing
unless everything passes.

**Resync.** A step whose records or values change (new step, other object, other filter,
other mapping lines) has its polling cursor reset, so the next ``sync run`` re-reads all its
records under the new rules: records the old filter left out arrive, and records whose
mapped values now differ are updated (unchanged ones are skipped as always). Records a
narrower filter now leaves out stay in People. Cursors are reset *before* the profile is
saved, so a crash in between costs at most one extra full read, never a missed resync. A
``sync run --follow`` already running keeps the profile it started with until restarted.
Switch changes (enable, create / update / delete) need no resync: they apply from the next
record on. An outbound step whose mapping or filter changed is marked for a re-push instead
(``sync.repush``): the next push writes its linked persons' changed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peoplesync.errors import PeopleSyncError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.conflict_rules import rule_problems
from peoplesync.sync.mapping import Direction, Mode, attribute_type, validate_lines
from peoplesync.sync.outbound.preview import required_on_create
from peoplesync.sync.outbound.repush import fingerprint, marked, repush_key
from peoplesync.sync.profile.filter_check import org_problems
from peoplesync.sync.profile.format import read_profile
from peoplesync.sync.profile.model import (
    Profile,
    ProfileError,
    Step,
    StepProblem,
    Target,
    default_profile,
)
from peoplesync.sync.profile.schedule_plan import schedule_problems

# Where the web app and the REST API create an attribute (the problems' web hint).
ATTRIBUTE_ON_WEB = (
    "create it (People -> Configuration, or POST /api/v1/attributes) or map another one"
)


def profile_key(integration: str) -> str:
    """Where the integration's profile is stored."""
    return f"profile:{integration}"


async def load_profile(store: PeopleStore, integration: str = "default") -> Profile:
    """The stored profile of ``integration``, or the default profile when none is stored."""
    stored = await store.get_state(profile_key(integration))
    if not stored:
        return default_profile()
    return read_profile(stored)


async def hold_outbound(store: PeopleStore, integration: str) -> list[str]:
    """Switch a new integration's outbound steps off until the user reviews them (its stored
    profile, or the default one); returns the steps now awaiting review."""
    held = (await load_profile(store, integration)).held_for_review()
    await store.set_state(profile_key(integration), held.to_dict())
    return held.awaiting_review()


@dataclass
class SaveResult:
    """What saving did: the steps that will re-read all their records, and why."""

    resync: dict[str, str] = field(default_factory=dict)
    saved: bool = True
    # Outbound steps whose linked persons the next push goes through (see ``sync.repush``).
    repush: dict[str, str] = field(default_factory=dict)


async def check_profile(
    store: PeopleStore, client: SalesforceClient | None, profile: Profile
) -> list[StepProblem]:
    """Everything wrong with ``profile``; with a client, checked against the org as well."""
    problems = profile.problems() + rule_problems(profile.steps) + schedule_problems(profile.steps)
    definitions = await store.attributes()
    for step in profile.steps:
        if client is None:
            problems += _attribute_problems(step, definitions)
            continue
        try:
            describe = await client.describe(step.sobject)
        except PeopleSyncError as error:
            problems.append(
                StepProblem(
                    step.name,
                    "sobject",
                    f"Salesforce cannot describe {step.sobject}: {error.message}",
                    hint="check the object's API name and the integration user's access to it",
                )
            )
            continue
        problems += _describe_problems(step, describe, definitions)
        problems += await org_problems(client, step, describe)
    return problems


async def save_profile(
    store: PeopleStore,
    client: SalesforceClient | None,
    profile: Profile,
    *,
    integration: str = "default",
    dry_run: bool = False,
) -> SaveResult:
    """Check ``profile`` (against the org when ``client`` is given) and store it.

    Raises ``ProfileError`` naming every step and field at fault; then nothing is saved.
    With ``dry_run`` everything is checked and the result says what would happen.
    """
    problems = await check_profile(store, client, profile)
    if problems:
        raise ProfileError(problems)
    before = await load_profile(store, integration)
    result = SaveResult(saved=not dry_run)
    for step in profile.steps:
        old = before.find(step.name)
        if step.direction is Direction.OUTBOUND:
            # A push follows People's change log: a changed mapping goes through the linked
            # persons once instead (a new step starts with what changes from then on).
            if old is not None and (old.lines, old.filter) != (step.lines, step.filter):
                result.repush[step.name] = _what_changed(old, step)
            continue
        if old is None:
            result.resync[step.name] = "new step"
        elif not step.reads_like(old):
            result.resync[step.name] = _what_changed(old, step)
    if dry_run:
        return result
    for name in result.resync:
        step = profile.step(name)
        await store.set_state(step.inbound_step(integration).cursor_key, {})
    if result.repush:
        key = repush_key(f"salesforce:{integration}")
        waiting = await store.get_state(key)
        for name, why in result.repush.items():
            waiting = marked(waiting, name, fingerprint(profile.step(name).lines), why)
        await store.set_state(key, waiting or {})
    await store.set_state(profile_key(integration), profile.to_dict())
    return result


def _what_changed(old: Step, new: Step) -> str:
    changed = [
        label
        for label, before, after in (
            ("object", old.sobject, new.sobject),
            ("target", old.target, new.target),
            ("filter", old.filter, new.filter),
            ("mapping", old.lines, new.lines),
        )
        if before != after
    ]
    return " and ".join(changed) + " changed"


def _attribute_problems(
    step: Step, definitions: Mapping[str, AttributeDefinition]
) -> list[StepProblem]:
    if step.target is not Target.PERSON:
        return []
    return [
        StepProblem(
            step.name,
            f"mapping[{index}] ({line.salesforce_field})",
            f"People has no attribute {line.attribute}",
            hint="create it (peoplesync attributes add NAME --type TYPE) or map another one",
            web_hint=ATTRIBUTE_ON_WEB,
        )
        for index, line in enumerate(step.lines)
        if line.mode is not Mode.DONT_SYNC and attribute_type(line.attribute, definitions) is None
    ]


def _outbound_problems(
    step: Step, describe: Mapping[str, Any], definitions: Mapping[str, AttributeDefinition]
) -> list[StepProblem]:
    """An outbound step against the object's describe: every line writes a field that
    exists and may be written, and a creating step fills every field Salesforce requires."""
    fields = {str(f["name"]).lower(): f for f in describe.get("fields", [])}
    found: list[StepProblem] = []
    for index, line in enumerate(step.lines):
        where = f"mapping[{index}] ({line.salesforce_field})"
        creates = step.create and line.applies(inbound=False, creating=True)
        updates = step.update and line.applies(inbound=False, creating=False)
        if not (creates or updates) or "." in line.salesforce_field:
            continue  # relationship paths are reported by the pure checks
        meta = fields.get(line.salesforce_field.lower())
        if meta is None:
            found.append(
                StepProblem(
                    step.name,
                    where,
                    f"{step.sobject} has no field {line.salesforce_field}",
                    hint="pick a field from the object's describe, or create it in Salesforce",
                )
            )
            continue
        if (
            step.target is Target.PERSON
            and line.attribute != "company_id"  # the company's Account id (AccountId)
            and attribute_type(line.attribute, definitions) is None
        ):
            found.append(
                StepProblem(
                    step.name,
                    where,
                    f"People has no attribute {line.attribute}",
                    hint="create it (peoplesync attributes add NAME --type TYPE) or map another",
                    web_hint=ATTRIBUTE_ON_WEB,
                )
            )
        for needed, allowed in (("createable", creates), ("updateable", updates)):
            if allowed and not meta.get(needed):
                verb = "set on new" if needed == "createable" else "changed on existing"
                found.append(
                    StepProblem(
                        step.name,
                        where,
                        f"{step.sobject}.{meta['name']} cannot be {verb} records",
                        hint="map it inbound only, or limit the line with --on",
                        web_hint="map it inbound only, or untick the line's Create or Update",
                    )
                )
    if step.create:
        filled = {
            line.salesforce_field.lower()
            for line in step.lines
            if line.applies(inbound=False, creating=True)
        }
        for name in required_on_create(describe):
            if name.lower() not in filled:
                found.append(
                    StepProblem(
                        step.name,
                        f"mapping ({name})",
                        f"Salesforce requires {step.sobject}.{name} on a new record, and no "
                        "outbound line fills it on create",
                        hint=f"map a People attribute to {name} (peoplesync steps map "
                        f"{step.name!r} --field {name} --attribute ...), or --no-create",
                        web_hint=f"add a mapping line for {name} on the step's page (Add "
                        "line), or switch the step's Create off on the Steps page",
                    )
                )
    return found


def _describe_problems(
    step: Step, describe: Mapping[str, Any], definitions: Mapping[str, AttributeDefinition]
) -> list[StepProblem]:
    if step.direction is Direction.OUTBOUND:
        return _outbound_problems(step, describe, definitions)
    if step.target is Target.PERSON:
        return [
            StepProblem(
                step.name,
                f"mapping ({error.field})",
                error.detail,
                hint=error.hint,
                web_hint=error.web_hint,
            )
            for error in validate_lines(
                step.sobject, step.lines, describe, definitions, creates_records=False
            )
        ]
    fields = {f["name"].lower() for f in describe.get("fields", [])}
    return [
        StepProblem(
            step.name,
            f"mapping[{index}] ({line.salesforce_field})",
            f"{step.sobject} has no field {line.salesforce_field}",
            hint="pick a field from the object's describe, or create it in Salesforce",
        )
        for index, line in enumerate(step.lines)
        if line.mode is not Mode.DONT_SYNC
        and line.salesforce_field.lower() not in fields
        and (line.salesforce_field.split(".")[0] + "Id").lower() not in fields
    ]


__all__ = [
    "SaveResult",
    "check_profile",
    "hold_outbound",
    "load_profile",
    "profile_key",
    "save_profile",
]
