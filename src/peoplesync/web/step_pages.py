"""The page of one sync step: its mapping lines (with new attributes made on the way) and its
inbound filter, each part checked against People and the org as it is saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import NotFoundError, RecordError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.filter_check import PARTS
from peoplesync.sync.profile.model import (
    ProfileError,
    Step,
)
from peoplesync.sync.profile.step_edits import (
    change_step,
    set_lines_and_rules,
    step_row,
)
from peoplesync.web.access import AdminSession, CheckedSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.pages import render
from peoplesync.web.step_edit_form import (
    filter_problems,
    filter_texts,
    form_filter,
    form_rows,
    row_lines,
    shown_rows,
)
from peoplesync.web.step_forms import (
    MODES,
    Row,
    error_text,
    form_texts,
    saved_query,
    step_url,
)
from peoplesync.web.steps_view import (
    app_opener,
    attribute_choices,
    check_filter,
    find_step,
    lead_status_values,
    missing_attributes,
    not_company_fields,
    org_client,
    org_fields,
    place_problems,
    profile_kind,
    save_change,
)

router = APIRouter(include_in_schema=False)


async def _step_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    step: str,
    *,
    rows: list[Row] | None = None,
    line_errors: Mapping[int, list[str]] | None = None,
    general: Sequence[str] = (),
    filter_values: Mapping[str, str] | None = None,
    filter_errors: Mapping[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    profile, found = await find_step(web.store, name, step)
    async with org_client(web.store, app_opener(request), name) as client:
        fields = await org_fields(client, found.sobject)
        statuses = await lead_status_values(client) if found.sobject == "Lead" else []
    definitions = await web.store.attributes()
    shown = rows if rows is not None else shown_rows(found.lines)
    modes = {m.value for m in Mode}
    lines = [
        FieldMapping(r["field"], r["attribute"], mode=Mode(r["mode"]))
        for r in shown
        if r["mode"] in modes
    ]
    creating = {
        r["field"].lower()
        for r in shown
        if r["create"] and r["mode"] != Mode.DONT_SYNC and r["direction"] != Direction.INBOUND
    }
    required = [f.name for f in fields or () if f.required]
    return render(
        web,
        request,
        "step.html",
        session,
        status_code,
        name=name,
        kind=await profile_kind(web.store, name),
        step=step_row(found),
        outbound=found.direction is Direction.OUTBOUND,
        rows=shown,
        line_errors=line_errors or {},
        general=list(general),
        fields=fields,
        required=required,
        required_filled=creating,
        missing=missing_attributes(lines, definitions, fields, found.target),
        not_company=not_company_fields(lines, found.target),
        attributes=attribute_choices(found.target, definitions),
        modes=MODES,
        directions=[d.value for d in Direction],
        conflicts=[c.value for c in ConflictRule],
        filter=filter_values or filter_texts(found.filter),
        filter_errors=filter_errors or {},
        statuses=statuses,
        notice=notice,
        profile_steps=profile.names(),
    )


@router.get("/salesforce/{name}/steps/{step}")
async def step_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    step: str,
    saved: Annotated[str, Query(max_length=1)] = "",
    resync: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """A step's mapping editor and filters."""
    notice = ""
    if saved:
        notice = "Saved."
        if step in resync.split(","):
            notice += " The step re-reads all its records at the next sync."
    return await _step_page(request, web, session, name, step, notice=notice)


@router.post("/salesforce/{name}/steps/{step}/mapping")
async def save_mapping(
    request: Request, web: Context, session: AdminSession, name: str, step: str
) -> Response:
    """Save the mapping, add an empty line, or create a missing attribute in People."""
    profile, found = await find_step(web.store, name, step)
    form = form_texts(await request.form())
    rows = form_rows(form, found)
    action = form.get("action", "save")
    if action == "add":
        blank = {"field": "", "attribute": "", "mode": "overwrite", "create": True, "update": True}
        rows.append({**blank, "direction": found.direction.value, "conflict": "most_recent"})
        return await _step_page(request, web, session, name, step, rows=rows)
    if action.startswith("create:"):
        return await _create_attribute(request, web, session, name, found, rows, action)
    lines, errors = row_lines(profile, found, rows)
    if errors:
        return await _step_page(
            request, web, session, name, step, rows=rows, line_errors=errors, status_code=422
        )
    try:
        _saved, result = await save_change(
            web.store, app_opener(request), name, lambda p: set_lines_and_rules(p, step, lines)
        )
    except ProfileError as error:
        ours = [p for p in error.problems if p.step == step]
        placed = place_problems(ours, lines)
        others = [p.text_on_web for p in error.problems if p.step != step]
        return await _step_page(
            request,
            web,
            session,
            name,
            step,
            rows=rows,
            line_errors=placed.by_line,
            general=[*placed.general, *others],
            status_code=422,
        )
    return RedirectResponse(step_url(name, step, **saved_query(result)), status_code=303)


async def _create_attribute(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    step: Step,
    rows: list[Row],
    action: str,
) -> HTMLResponse:
    """Define the attribute a line maps (typed from its Salesforce field); keep the rows."""
    try:
        row = rows[int(action.removeprefix("create:"))]
    except (ValueError, IndexError):
        return await _step_page(
            request,
            web,
            session,
            name,
            step.name,
            rows=rows,
            general=["no such line"],
            status_code=422,
        )
    line = FieldMapping(row["field"], row["attribute"])
    async with org_client(web.store, app_opener(request), name) as client:
        fields = await org_fields(client, step.sobject)
    missing = missing_attributes([line], await web.store.attributes(), fields, step.target)
    kind = missing.get(line.attribute)
    if kind is None:
        return await _step_page(request, web, session, name, step.name, rows=rows)
    try:
        await web.store.define_attribute(
            AttributeDefinition(line.attribute, kind), origin=f"web:{session.user.email}"
        )
    except RecordError as error:
        index = rows.index(row)
        text = f"mapping[{index}] ({row['field']}): attribute {line.attribute}: {error.detail}"
        return await _step_page(
            request,
            web,
            session,
            name,
            step.name,
            rows=rows,
            line_errors={index: [text]},
            status_code=422,
        )
    notice = f"Attribute {line.attribute} ({kind.value}) created in People; save the mapping."
    return await _step_page(request, web, session, name, step.name, rows=rows, notice=notice)


@router.post("/salesforce/{name}/steps/{step}/filter")
async def save_filter(
    request: Request, web: Context, session: AdminSession, name: str, step: str
) -> Response:
    """Save the step's filter (checked against the org); a changed filter resyncs the step."""
    await find_step(web.store, name, step)
    form = await request.form()
    new_filter, errors = form_filter(form)
    values = {k: v for k, v in form_texts(form).items() if k in PARTS}
    values["lead_statuses"] = "\n".join(new_filter.lead_statuses)
    if not errors:
        try:
            _saved, result = await save_change(
                web.store,
                app_opener(request),
                name,
                lambda p: change_step(p, step, step_filter=new_filter),
            )
        except ProfileError as error:
            errors = filter_problems([p for p in error.problems if p.step == step])
            if not errors:
                errors = {"condition": error_text(error)}
        else:
            return RedirectResponse(step_url(name, step, **saved_query(result)), status_code=303)
    return await _step_page(
        request,
        web,
        session,
        name,
        step,
        filter_values=values,
        filter_errors=errors,
        status_code=422,
    )


@router.post("/salesforce/{name}/steps/{step}/filter/check/{part}")
async def check_filter_part(
    request: Request, web: Context, _session: CheckedSession, name: str, step: str, part: str
) -> HTMLResponse:
    """Live validation of one filter part as the user types (htmx swaps the answer in)."""
    _profile, found = await find_step(web.store, name, step)
    if part not in PARTS:
        raise NotFoundError("no filter part has this name", record=part, field="part")
    new_filter, errors = form_filter(await request.form())
    if part not in errors:
        async with org_client(web.store, app_opener(request), name) as client:
            problems = await check_filter(client, found, new_filter, part)
        errors = filter_problems(problems)
    return web.templates.TemplateResponse(
        request, "step_filter_check.html", {"part": part, "message": errors.get(part, "")}
    )


__all__ = ["router"]
