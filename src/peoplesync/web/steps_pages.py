"""Apps -> Salesforce -> Steps: the profile's steps (add, clone, remove, switches); a step's
mapping editor and filters are in ``step_pages``. Changes go through the CLI's step edits and
checks; a changed mapping or filter resyncs the step as the CLI does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import ConfigurationError
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.model import (
    Profile,
    default_profile,
)
from peoplesync.sync.profile.step_edits import (
    added_step,
    change_step,
    step_row,
)
from peoplesync.sync.profile.store import load_profile
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.pages import render
from peoplesync.web.step_forms import (
    error_text,
    saved_query,
    steps_url,
)
from peoplesync.web.steps_view import (
    app_opener,
    find_step,
    profile_kind,
    save_change,
    save_whole,
)

router = APIRouter(include_in_schema=False)
SWITCHES = ("enabled", "create", "update", "delete")


# --- the steps list -------------------------------------------------------------------------


async def _steps_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    *,
    error: str = "",
    status_code: int = 200,
    saved: bool = False,
    resync: Sequence[str] = (),
    **extra: Any,  # more for the template (the schedule form's field errors)
) -> HTMLResponse:
    profile = await load_profile(web.store, name)
    return render(
        web,
        request,
        "steps.html",
        session,
        status_code,
        name=name,
        kind=await profile_kind(web.store, name),
        steps=[step_row(step) for step in profile.steps],
        connected=await web.store.get_state(f"integration:{name}") is not None,
        error=error,
        saved=saved,
        resync=[s for s in resync if profile.find(s)],
        **extra,
    )


async def _apply(
    request: Request, web: WebContext, session: WebSession, name: str, change: Any
) -> Response:
    try:
        _profile, result = await save_change(web.store, app_opener(request), name, change)
    except ConfigurationError as error:
        return await _steps_page(
            request, web, session, name, error=error_text(error), status_code=422
        )
    return RedirectResponse(steps_url(name, **saved_query(result)), status_code=303)


@router.get("/salesforce/steps")
async def default_steps(_session: PageSession) -> RedirectResponse:
    """The default integration's steps."""
    return RedirectResponse(steps_url("default"), status_code=303)


@router.get("/salesforce/{name}/steps")
async def steps_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    saved: Annotated[str, Query(max_length=1)] = "",
    resync: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """The profile's steps in the order they run, with switches, filters and mapping sizes."""
    return await _steps_page(
        request, web, session, name, saved=bool(saved), resync=[s for s in resync.split(",") if s]
    )


@router.post("/salesforce/{name}/steps")
async def add_step(
    request: Request,
    web: Context,
    session: AdminSession,
    name: str,
    sobject: Annotated[str, Form(max_length=80)] = "",
    direction: Annotated[str, Form(max_length=20)] = "inbound",
    step_name: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Add a step of an object with its shipped mapping (admins only)."""
    if direction not in (Direction.INBOUND, Direction.OUTBOUND):
        return await _steps_page(
            request,
            web,
            session,
            name,
            error="direction: choose inbound or outbound",
            status_code=422,
        )

    def change(profile: Profile) -> Profile:
        step = added_step(
            profile,
            sobject=sobject.strip() or None,
            name=step_name.strip() or None,
            direction=Direction(direction),
        )
        return profile.add(step)

    return await _apply(request, web, session, name, change)


@router.post("/salesforce/{name}/steps/reset")
async def reset_steps(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Go back to the default profile (checked and resynced like any change); outbound
    steps still awaiting review stay off."""
    target = default_profile()
    if (await load_profile(web.store, name)).awaiting_review():
        target = target.held_for_review()
    try:
        result = await save_whole(web.store, app_opener(request), name, target)
    except ConfigurationError as error:
        return await _steps_page(
            request, web, session, name, error=error_text(error), status_code=422
        )
    return RedirectResponse(steps_url(name, **saved_query(result)), status_code=303)


@router.post("/salesforce/{name}/steps/{step}/clone")
async def clone_step(
    request: Request, web: Context, session: AdminSession, name: str, step: str
) -> Response:
    """Append a copy of the step."""
    await find_step(web.store, name, step)
    return await _apply(request, web, session, name, lambda p: p.add(added_step(p, clone=step)))


@router.post("/salesforce/{name}/steps/{step}/remove")
async def remove_step(
    request: Request, web: Context, session: AdminSession, name: str, step: str
) -> Response:
    """Remove the step (People keeps what it brought)."""
    await find_step(web.store, name, step)
    return await _apply(request, web, session, name, lambda p: p.remove(step))


@router.post("/salesforce/{name}/steps/{step}/switch")
async def switch_step(
    request: Request,
    web: Context,
    session: AdminSession,
    name: str,
    step: str,
    switch: Annotated[str, Form(max_length=20)] = "",
    value: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Turn one of enabled / create / update / delete on or off."""
    await find_step(web.store, name, step)
    if switch not in SWITCHES or value not in ("on", "off"):
        message = f"switch: choose one of {', '.join(SWITCHES)}, and on or off"
        return await _steps_page(request, web, session, name, error=message, status_code=422)
    on = value == "on"

    def change(profile: Profile) -> Profile:
        if switch == "enabled":
            return profile.set_enabled(step, on)
        flags: dict[str, bool | None] = {"create": None, "update": None, "delete": None}
        flags[switch] = on
        return change_step(
            profile, step, create=flags["create"], update=flags["update"], delete=flags["delete"]
        )

    return await _apply(request, web, session, name, change)


# --- one step: mapping and filters ----------------------------------------------------------
