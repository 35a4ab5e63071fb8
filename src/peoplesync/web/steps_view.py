"""An integration's sync steps as the web shows and edits them, on the step edits of the CLI
(``sync.step_edits``): the org is asked (describe, ``LIMIT 1`` filter checks) when the
integration is connected and the app has a client opener, else People alone is checked."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from peoplesync.errors import NotFoundError, PeopleSyncError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeType
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.mapping import CONTACT_POINTS, FieldMapping, Mode, attribute_type
from peoplesync.sync.outbound.preview import required_on_create
from peoplesync.sync.profile.filter_check import org_problems, pure_problems
from peoplesync.sync.profile.model import (
    COMPANY_FIELDS,
    Profile,
    Step,
    StepFilter,
    StepProblem,
    Target,
    default_profile,
)
from peoplesync.sync.profile.step_edits import Change, ClientOpener, edit_profile, save_checked
from peoplesync.sync.profile.store import SaveResult, load_profile, profile_key

# Salesforce field types and the People attribute type their values fit.
_PEOPLE_TYPES = {
    "boolean": AttributeType.BOOLEAN,
    "int": AttributeType.NUMBER,
    "double": AttributeType.DECIMAL,
    "currency": AttributeType.DECIMAL,
    "percent": AttributeType.DECIMAL,
    "date": AttributeType.DATE,
    "datetime": AttributeType.DATETIME,
    "multipicklist": AttributeType.LIST,
}
_LINE_INDEX = re.compile(r"mapping\[(\d+)\]")
_NAMED = re.compile(r"mapping \((.+)\)$")


def app_opener(connection: HTTPConnection) -> ClientOpener | None:
    """The client opener the app was created with (None: check against People only)."""
    opener: ClientOpener | None = getattr(connection.app.state, "open_org", None)
    return opener


async def connected(
    store: PeopleStore, opener: ClientOpener | None, name: str
) -> ClientOpener | None:
    """``opener`` when the integration is connected, else None."""
    if opener is None or await store.get_state(f"integration:{name}") is None:
        return None
    return opener


def people_type(salesforce_type: str) -> AttributeType:
    """The People attribute type for values of a Salesforce field type."""
    return _PEOPLE_TYPES.get(salesforce_type, AttributeType.TEXT)


@dataclass(frozen=True)
class OrgField:
    """A Salesforce field as the mapping editor offers it."""

    name: str
    label: str
    type: str
    required: bool

    def json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required_on_create": self.required,
            "people_type": people_type(self.type).value,
        }


async def profile_kind(store: PeopleStore, name: str) -> str:
    """``default`` while the integration runs the shipped profile, else ``custom``."""
    stored = await store.get_state(profile_key(name))
    shipped = default_profile()
    defaults = (shipped.to_dict(), shipped.held_for_review().to_dict())
    return "default" if not stored or stored in defaults else "custom"


async def find_step(store: PeopleStore, name: str, step: str) -> tuple[Profile, Step]:
    """The profile and its step called ``step``; NotFoundError naming it otherwise."""
    profile = await load_profile(store, name)
    found = profile.find(step)
    if found is None:
        raise NotFoundError(
            "no step has this name",
            record=step,
            field="step",
            hint=f"use one of: {', '.join(profile.names())}",
        )
    return profile, found


@asynccontextmanager
async def org_client(
    store: PeopleStore, opener: ClientOpener | None, name: str
) -> AsyncIterator[SalesforceClient | None]:
    """A client of the connected integration, or None."""
    live = await connected(store, opener, name)
    if live is None:
        yield None
        return
    async with live(store, name) as client:
        yield client


async def org_fields(client: SalesforceClient | None, sobject: str) -> list[OrgField] | None:
    """The object's fields from the describe (None without a client)."""
    if client is None:
        return None
    describe = await client.describe(sobject)
    required = set(required_on_create(describe))
    return [
        OrgField(
            str(f["name"]), str(f.get("label") or f["name"]), str(f["type"]), f["name"] in required
        )
        for f in describe.get("fields", [])
    ]


async def lead_status_values(client: SalesforceClient | None) -> list[str]:
    """The active values of Lead.Status (empty without a client)."""
    if client is None:
        return []
    describe = await client.describe("Lead")
    meta: dict[str, Any] = next(
        (f for f in describe.get("fields", []) if f.get("name") == "Status"), {}
    )
    return [str(v["value"]) for v in meta.get("picklistValues") or [] if v.get("active")]


async def check_filter(
    client: SalesforceClient | None, step: Step, step_filter: StepFilter, part: str | None = None
) -> list[StepProblem]:
    """What is wrong with ``step_filter`` (or its ``part``) on ``step``, as a save would say."""
    candidate = dataclasses.replace(step, filter=step_filter)
    problems = pure_problems(candidate, part)
    if problems or client is None:
        return problems
    return await org_problems(client, candidate, await client.describe(step.sobject), part)


async def save_change(
    store: PeopleStore, opener: ClientOpener | None, name: str, change: Change
) -> tuple[Profile, SaveResult]:
    """Apply ``change`` to the integration's profile and save it, checked like the CLI."""
    return await edit_profile(store, await connected(store, opener, name), name, change)


async def save_whole(
    store: PeopleStore, opener: ClientOpener | None, name: str, profile: Profile
) -> SaveResult:
    """Save a whole profile (e.g. back to the default one), checked like the CLI."""
    return await save_checked(store, await connected(store, opener, name), profile, name)


@dataclass
class LineErrors:
    """Save problems placed next to the mapping line they concern, or above the lines."""

    by_line: dict[int, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def place_problems(problems: Sequence[StepProblem], lines: Sequence[FieldMapping]) -> LineErrors:
    """Put each problem next to its line: by index (``mapping[2]``), else by the field or
    attribute it names (``mapping (LastName)``); the rest (and filter problems) go above."""
    placed = LineErrors()
    for problem in problems:
        hint = problem.hint_on_web
        text = f"{problem.field}: {problem.detail}" + (f" ({hint})" if hint else "")
        index: int | None = None
        if found := _LINE_INDEX.match(problem.field):
            index = int(found.group(1))
        elif found := _NAMED.match(problem.field):
            named = found.group(1).lower()
            index = next(
                (
                    i
                    for i, line in enumerate(lines)
                    if named in (line.salesforce_field.lower(), line.attribute.lower())
                ),
                None,
            )
        if index is None or index >= len(lines):
            placed.general.append(text)
        else:
            placed.by_line.setdefault(index, []).append(text)
    return placed


def missing_attributes(
    lines: Sequence[FieldMapping],
    definitions: Mapping[str, Any],
    fields: Sequence[OrgField] | None,
    target: Target = Target.PERSON,
) -> dict[str, AttributeType]:
    """Person attributes the lines map that People lacks, with the type to create them as.
    A company step maps company fields, which are fixed: nothing to create there."""
    if target is Target.COMPANY:
        return {}
    types = {f.name.lower(): f.type for f in fields or ()}
    missing: dict[str, AttributeType] = {}
    for line in lines:
        if line.mode is Mode.DONT_SYNC or attribute_type(line.attribute, definitions) is not None:
            continue
        missing[line.attribute] = people_type(types.get(line.salesforce_field.lower(), "string"))
    return missing


def not_company_fields(lines: Sequence[FieldMapping], target: Target) -> list[str]:
    """The attributes a company step's lines map that are not company fields."""
    if target is not Target.COMPANY:
        return []
    return [
        line.attribute
        for line in lines
        if line.mode is not Mode.DONT_SYNC and line.attribute not in COMPANY_FIELDS
    ]


def attribute_choices(target: Target, definitions: Mapping[str, Any]) -> list[str]:
    """What a line of a step with this target may map to: company fields, or person
    attributes (standard, contact points, custom)."""
    if target is Target.COMPANY:
        return list(COMPANY_FIELDS)
    return [*STANDARD_ATTRIBUTES, *CONTACT_POINTS, *definitions]


def line_json(line: FieldMapping) -> dict[str, Any]:
    """A mapping line with every setting spelled out."""
    when = {(True, True): "both", (True, False): "create", (False, True): "update"}
    return {
        "field": line.salesforce_field,
        "attribute": line.attribute,
        "mode": line.mode.value,
        "when": when.get((line.on_create, line.on_update), "both"),
        "direction": line.direction.value,
        "conflict": line.conflict.value,
    }


def first_problem(error: PeopleSyncError) -> StepProblem | None:
    """The first step problem of a rejected save, if it is one."""
    problems: list[StepProblem] = getattr(error, "problems", [])
    if isinstance(error, StepProblem):
        return error
    return problems[0] if problems else None


__all__ = [
    "LineErrors",
    "OrgField",
    "app_opener",
    "attribute_choices",
    "check_filter",
    "find_step",
    "lead_status_values",
    "line_json",
    "missing_attributes",
    "not_company_fields",
    "org_client",
    "org_fields",
    "people_type",
    "place_problems",
    "profile_kind",
    "save_change",
    "save_whole",
]
