"""REST: a step's schedule under /api/v1/integrations/{name}/steps/{step}/schedule.

Viewers read; admins change. Bad input is a 422 naming the field (``schedule.every``) and
saves nothing. Outbound steps share one push schedule: setting one sets them all (the
answer lists every step that changed).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.sync.profile.model import ProfileError
from peoplesync.sync.profile.schedule_edits import set_schedule
from peoplesync.sync.status.schedule_keeper import step_schedules
from peoplesync.web.access import ApiAdmin, ApiUser, Context
from peoplesync.web.steps_api import rejected_profile
from peoplesync.web.steps_view import find_step

router = APIRouter(prefix="/integrations/{name}/steps", tags=["steps"])


class ScheduleBody(BaseModel):
    """A schedule: ``realtime`` (``every``: reconciliation poll minutes, default 15),
    ``minutes`` / ``hours`` (``every``), ``daily`` (``at`` HH:MM, ``timezone``, default UTC)
    or ``manual``. Values are checked by the schedule reader, which names the field."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=20, examples=["minutes"])
    every: int | None = Field(None, examples=[15])
    at: str | None = Field(None, max_length=10, examples=["06:30"])
    timezone: str | None = Field(None, max_length=64, examples=["Europe/Paris"])


async def _schedule(web: Any, name: str, step: str) -> dict[str, Any]:
    rows = await step_schedules(web.store, web.statuses, name)
    return next(row for row in rows if row["step"] == step)


@router.get("/{step}/schedule")
async def get_schedule(web: Context, _user: ApiUser, name: str, step: str) -> dict[str, Any]:
    """The step's schedule, in words, and its next run (None: only when asked)."""
    await find_step(web.store, name, step)
    return await _schedule(web, name, step)


async def _save(web: Any, name: str, step: str, data: dict[str, Any] | None) -> dict[str, Any]:
    await find_step(web.store, name, step)
    try:
        _profile, changed = await set_schedule(web.store, name, step, data)
    except ProfileError as error:
        raise rejected_profile(error) from None
    return {**await _schedule(web, name, step), "changed": changed}


@router.put("/{step}/schedule")
async def put_schedule(
    web: Context, _user: ApiAdmin, name: str, step: str, body: ScheduleBody
) -> dict[str, Any]:
    """Set the step's schedule (admins only); running workers use it from their next cycle."""
    return await _save(web, name, step, body.model_dump(exclude_none=True))


@router.delete("/{step}/schedule")
async def reset_schedule(web: Context, _user: ApiAdmin, name: str, step: str) -> dict[str, Any]:
    """Back to the default schedule (real time)."""
    return await _save(web, name, step, None)


__all__ = ["router"]
