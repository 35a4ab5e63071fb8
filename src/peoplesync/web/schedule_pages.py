"""The Steps page's schedule control: one small form per step (kind, every, at, time zone).

A rejected schedule shows the Steps page again with the message and the field marked; a
saved one is picked up by the running workers at their next cycle.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from peoplesync.sync.profile.model import ProfileError
from peoplesync.sync.profile.schedule_edits import set_schedule
from peoplesync.web.access import AdminSession, Context
from peoplesync.web.steps_pages import _steps_page
from peoplesync.web.steps_view import find_step

router = APIRouter(include_in_schema=False)


def form_schedule(kind: str, every: str, at: str, timezone: str) -> dict[str, Any] | None:
    """The form's values as schedule data (None: back to the default); a number that is not
    one is passed on as text, for the reader to name the field."""
    if kind == "default":
        return None
    data: dict[str, Any] = {"kind": kind}
    if kind in ("realtime", "minutes", "hours"):
        text = every.strip()
        data["every"] = int(text) if text.isdigit() else (text or None)
    if kind == "daily":
        data["at"] = at.strip() or None
        if timezone.strip():
            data["timezone"] = timezone.strip()
    return data


@router.post("/salesforce/{name}/steps/{step}/schedule")
async def save_schedule(
    request: Request,
    web: Context,
    session: AdminSession,
    name: str,
    step: str,
    kind: Annotated[str, Form(max_length=20)] = "",
    every: Annotated[str, Form(max_length=10)] = "",
    at: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Set one step's schedule from the Steps page."""
    await find_step(web.store, name, step)
    try:
        await set_schedule(web.store, name, step, form_schedule(kind, every, at, timezone))
    except ProfileError as error:
        fields = {p.field.removeprefix("schedule.") or "kind": p.detail for p in error.problems}
        text = "; ".join(p.text_on_web for p in error.problems)
        return await _steps_page(
            request,
            web,
            session,
            name,
            error=text,
            status_code=422,
            schedule_step=step,
            schedule_errors=fields,
            schedule_form={"kind": kind, "every": every, "at": at, "timezone": timezone},
        )
    url = f"/salesforce/{quote(name, safe='')}/steps?saved=1"
    return RedirectResponse(url, status_code=303)


__all__ = ["form_schedule", "router"]
