"""REST twins of the steps, mapping and filter pages under /api/v1/integrations/{name}/steps.

Viewers read; admins change. A rejected change is a 422 naming the step's field
(``mapping[2] (Sauce__c)``, ``filter.condition``) and saves nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import ConfigurationError, ValidationError
from peoplesync.sync.mapping import ConflictRule, Direction, Mode
from peoplesync.sync.profile.model import Profile, ProfileError, StepFilter
from peoplesync.sync.profile.step_edits import (
    added_step,
    change_step,
    changed_filter,
    mapping_line,
    set_lines,
    step_row,
)
from peoplesync.sync.profile.store import SaveResult, load_profile
from peoplesync.web.access import ApiAdmin, ApiUser, Context
from peoplesync.web.steps_view import (
    app_opener,
    check_filter,
    find_step,
    line_json,
    missing_attributes,
    org_client,
    org_fields,
    profile_kind,
    save_change,
)

router = APIRouter(prefix="/integrations/{name}/steps", tags=["steps"])
StepName = Annotated[str, Field(min_length=1, max_length=60)]


class StepCreate(BaseModel):
    """A new step: of a Salesforce object (with its shipped mapping), or a copy of a step."""

    model_config = ConfigDict(extra="forbid")

    sobject: str | None = Field(None, max_length=80, examples=["Lead"])
    clone: str | None = Field(None, max_length=60, description="Copy this step's settings")
    name: str | None = Field(None, max_length=60, description="Default: the object's name")
    direction: Direction = Direction.INBOUND


class FilterBody(BaseModel):
    """An inbound step's filter: "" removes the condition, 0 the window, [] the statuses."""

    model_config = ConfigDict(extra="forbid")

    condition: str | None = Field(None, max_length=4000, examples=["LeadSource = 'Web'"])
    modified_within_days: int | None = Field(None, ge=0, le=36500)
    lead_statuses: list[Annotated[str, Field(max_length=255)]] | None = Field(None, max_length=50)


class StepPatch(BaseModel):
    """Changes to a step: only what is given changes."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    create: bool | None = None
    update: bool | None = None
    delete: bool | None = None
    filter: FilterBody | None = None


class LineBody(BaseModel):
    """One mapping line."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=255, examples=["Email"])
    attribute: str = Field(min_length=1, max_length=100, examples=["emails"])
    mode: Mode = Mode.OVERWRITE
    when: Literal["both", "create", "update"] = "both"
    direction: Direction | None = Field(None, description="Default: the step's direction")
    conflict: ConflictRule = ConflictRule.MOST_RECENT


class MappingBody(BaseModel):
    """A step's whole mapping, in order."""

    model_config = ConfigDict(extra="forbid")

    lines: list[LineBody] = Field(max_length=500)


def rejected_profile(error: ProfileError) -> ValidationError:
    """A refused profile change as a 422 naming the first step and field at fault."""
    first, *others = error.problems
    return ValidationError(  # the first problem's hint is the answer's hint, not said twice
        "; ".join([first.message, *(p.text_on_web for p in others)]),
        record=f"step {first.step}",
        field=first.field,
        hint=first.hint_on_web,
    )


async def _save(request: Request, web: Any, name: str, change: Any) -> tuple[Profile, SaveResult]:
    try:
        return await save_change(web.store, app_opener(request), name, change)
    except ProfileError as error:
        raise rejected_profile(error) from None


@router.get("")
async def list_steps(web: Context, _user: ApiUser, name: str) -> dict[str, Any]:
    """The steps in the order they run, and whether the profile is the default one."""
    profile = await load_profile(web.store, name)
    return {
        "integration": name,
        "profile": await profile_kind(web.store, name),
        "steps": [step_row(step) for step in profile.steps],
    }


@router.post("", status_code=201)
async def add_step(
    request: Request, web: Context, _user: ApiAdmin, name: str, body: StepCreate
) -> dict[str, Any]:
    """Add a step (admins only); checked against People and the org before it is saved."""
    if body.direction is Direction.BOTH:
        raise ValidationError(
            "a step runs one way", record="step", field="direction", hint="use inbound or outbound"
        )
    current = await load_profile(web.store, name)
    if body.clone is not None and current.find(body.clone) is None:
        raise ValidationError("no step has this name", record="step", field="clone")
    if body.name is not None and current.find(body.name) is not None:
        raise ValidationError(
            "a step has this name already", record="step", field="name", hint="choose another"
        )
    created: list[Any] = []

    def change(profile: Profile) -> Profile:
        step = added_step(
            profile,
            sobject=body.sobject,
            clone=body.clone,
            name=body.name,
            direction=body.direction,
        )
        created.append(step)
        return profile.add(step)

    try:
        profile, result = await _save(request, web, name, change)
    except ValidationError:
        raise
    except ConfigurationError as error:
        field = "clone" if body.clone else "sobject"
        raise ValidationError(
            error.message, record="step", field=field, hint=error.hint_on_web
        ) from None
    return {**step_row(profile.step(created[0].name)), "resync": result.resync}


@router.patch("/{step}")
async def patch_step(
    request: Request, web: Context, _user: ApiAdmin, name: str, step: str, body: StepPatch
) -> dict[str, Any]:
    """Switch a step on or off, change its create / update / delete switches or its filter."""
    await find_step(web.store, name, step)
    given = body.filter

    def change(profile: Profile) -> Profile:
        if body.enabled is not None:
            profile = profile.set_enabled(step, body.enabled)
        new_filter = None
        if given is not None:
            new_filter = changed_filter(
                profile.step(step).filter,
                condition=given.condition,
                days=given.modified_within_days,
                statuses=given.lead_statuses,
                clear_statuses=given.lead_statuses == [],
            )
        return change_step(
            profile,
            step,
            create=body.create,
            update=body.update,
            delete=body.delete,
            step_filter=new_filter,
        )

    profile, result = await _save(request, web, name, change)
    return {**step_row(profile.step(step)), "resync": result.resync}


@router.delete("/{step}", status_code=204)
async def delete_step(
    request: Request, web: Context, _user: ApiAdmin, name: str, step: str
) -> Response:
    """Remove a step (People keeps what it brought)."""
    await find_step(web.store, name, step)
    await _save(request, web, name, lambda profile: profile.remove(step))
    return Response(status_code=204)


@router.get("/{step}/mapping")
async def get_mapping(
    request: Request, web: Context, _user: ApiUser, name: str, step: str
) -> dict[str, Any]:
    """A step's mapping lines; with a connected org also the object's fields (those Salesforce
    requires on create flagged) and the People attributes the mapping lacks."""
    _profile, found = await find_step(web.store, name, step)
    async with org_client(web.store, app_opener(request), name) as client:
        fields = await org_fields(client, found.sobject)
    missing = missing_attributes(found.lines, await web.store.attributes(), fields, found.target)
    return {
        "step": found.name,
        "sobject": found.sobject,
        "direction": found.direction.value,
        "lines": [line_json(line) for line in found.lines],
        "fields": None if fields is None else [f.json() for f in fields],
        "required_on_create": None if fields is None else [f.name for f in fields if f.required],
        "missing_attributes": [{"attribute": a, "type": t.value} for a, t in missing.items()],
    }


@router.put("/{step}/mapping")
async def put_mapping(
    request: Request, web: Context, _user: ApiAdmin, name: str, step: str, body: MappingBody
) -> dict[str, Any]:
    """Replace a step's mapping (admins only); a changed inbound mapping resyncs the step."""
    await find_step(web.store, name, step)

    def change(profile: Profile) -> Profile:
        lines = [
            mapping_line(
                profile,
                step,
                line.field,
                line.attribute,
                mode=line.mode,
                on=line.when,
                direction=line.direction,
                conflict=line.conflict,
            )
            for line in body.lines
        ]
        return set_lines(profile, step, lines)

    profile, result = await _save(request, web, name, change)
    return {
        "step": step,
        "lines": [line_json(line) for line in profile.step(step).lines],
        "resync": result.resync,
    }


@router.post("/{step}/filter/validate")
async def validate_filter(
    request: Request, web: Context, _user: ApiUser, name: str, step: str, body: FilterBody
) -> dict[str, Any]:
    """Check a filter for the step without saving it: each part alone, and against the org
    (a ``LIMIT 1`` query, Lead Status values) when it is connected."""
    _profile, found = await find_step(web.store, name, step)
    candidate = StepFilter(
        (body.condition or "").strip() or None,
        body.modified_within_days or None,
        tuple(body.lead_statuses or ()),
    )
    async with org_client(web.store, app_opener(request), name) as client:
        problems = await check_filter(client, found, candidate)
        checked_with_org = client is not None
    if problems:
        raise rejected_profile(ProfileError(problems))
    return {"valid": True, "condition": candidate.soql(), "checked_with_org": checked_with_org}


__all__ = ["rejected_profile", "router"]
