"""The transfer page (filters, dry-run preview, start, live progress, resync), retrying failed
records and deleting an integration. Forms post without scripts; htmx only polls progress."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import NotFoundError, RecordError
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.model import Target
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.transfer.jobs import TransferJob
from peoplesync.sync.transfer.request import MAX_FILTER, parse_request
from peoplesync.web.access import AdminSession, CheckedSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.integration_view import require_integration
from peoplesync.web.pages import render
from peoplesync.web.transfer_api import Runs
from peoplesync.workers.transfer_runs import JobRunningError, NothingToRetryError, TransferRuns

router = APIRouter(include_in_schema=False)
Days = Annotated[str, Form(max_length=10)]
Statuses = Annotated[str, Form(max_length=2000)]
Filter = Annotated[str, Form(max_length=MAX_FILTER)]
Steps = Annotated[list[str], Form(max_length=50)]


def _base(name: str) -> str:
    return f"/salesforce/{quote(name, safe='')}"


def _statuses(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


async def _page(
    request: Request,
    web: WebContext,
    runs: TransferRuns,
    session: WebSession,
    name: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    await require_integration(web.store, name)
    profile = await load_profile(web.store, name)
    inbound = [s for s in profile.steps if s.enabled and s.direction is Direction.INBOUND]
    steps = [  # in the order a transfer runs them: companies first (as ``profile_runners``)
        {"name": s.name, "sobject": s.sobject, "target": s.target.value.capitalize()}
        for s in sorted(inbound, key=lambda s: s.target is not Target.COMPANY)
    ]
    now = runs.clock.now()
    jobs = [job.json(now) for job in await runs.jobs.latest(name, limit=10)]
    return render(
        web,
        request,
        "transfer.html",
        session,
        status_code,
        name=name,
        base=_base(name),
        values=values or {},
        steps=steps,
        chosen=(values or {}).get("steps") or [s["name"] for s in steps],
        errors=errors or {},
        preview=preview,
        job=jobs[0] if jobs else None,
        jobs=jobs,
    )


def _field_error(error: RecordError) -> dict[str, str]:
    message = error.detail + (f" ({error.hint})" if error.hint else "")
    return {error.field or "general": message}


@router.get("/salesforce/{name}/transfer")
async def transfer_page(
    request: Request, web: Context, runs: Runs, session: PageSession, name: str
) -> HTMLResponse:
    """Filters, preview, start; the latest job's live progress and the recent jobs."""
    return await _page(request, web, runs, session, name)


@router.post("/salesforce/{name}/transfer")
async def preview_or_start(
    request: Request,
    web: Context,
    runs: Runs,
    session: CheckedSession,
    name: str,
    modified_within_days: Days = "",
    lead_status: Statuses = "",
    filter: Filter = "",
    steps: Steps = [],  # noqa: B006 (FastAPI copies form defaults)
    steps_shown: Annotated[str, Form(max_length=1)] = "",
    action: Annotated[str, Form(max_length=10)] = "preview",
) -> Response:
    """Preview (anyone; writes nothing) or start (admins) the transfer the form describes."""
    values: dict[str, Any] = {
        "modified_within_days": modified_within_days,
        "lead_status": lead_status,
        "filter": filter,
        "steps": steps,
    }
    if steps_shown and not steps:
        errors = {"steps": "choose at least one step to transfer"}
        return await _page(
            request, web, runs, session, name, values=values, errors=errors, status_code=422
        )
    if action not in ("preview", "start"):
        errors = {"action": "choose Preview or Start transfer"}
        return await _page(
            request, web, runs, session, name, values=values, errors=errors, status_code=422
        )
    if action == "start" and not session.user.is_admin:
        errors = {"general": "Only admins can start a transfer; viewers may preview."}
        return await _page(
            request, web, runs, session, name, values=values, errors=errors, status_code=403
        )
    try:
        asked = parse_request(
            modified_within_days=modified_within_days,
            lead_statuses=_statuses(lead_status),
            condition=filter,
            steps=steps,
        )
        if action == "preview":
            summary = await runs.preview(name, asked)
            return await _page(request, web, runs, session, name, values=values, preview=summary)
        await runs.start(name, "transfer", asked, session.user.email)
    except JobRunningError as error:
        errors = {"general": str(error)}
        return await _page(
            request, web, runs, session, name, values=values, errors=errors, status_code=409
        )
    except RecordError as error:
        if isinstance(error, NotFoundError):
            raise
        return await _page(
            request,
            web,
            runs,
            session,
            name,
            values=values,
            errors=_field_error(error),
            status_code=422,
        )
    return RedirectResponse(f"{_base(name)}/transfer", status_code=303)


@router.post("/salesforce/{name}/resync")
async def resync(runs: Runs, session: AdminSession, name: str) -> RedirectResponse:
    """Read every record again and apply all mapped fields (admins only)."""
    await runs.start(name, "resync", parse_request(), session.user.email)
    return RedirectResponse(f"{_base(name)}/transfer", status_code=303)


@router.post("/salesforce/{name}/retry")
async def retry(runs: Runs, session: AdminSession, name: str) -> RedirectResponse:
    """Read the failed records again and push failed persons now (admins only); with none
    failed, back to the status page, which says so."""
    try:
        await runs.start(name, "retry", parse_request(), session.user.email)
    except NothingToRetryError:
        return RedirectResponse(
            f"/salesforce/status?name={quote(name)}&retry=none", status_code=303
        )
    return RedirectResponse(f"{_base(name)}/transfer", status_code=303)


async def _own_job(runs: TransferRuns, name: str, job_id: str) -> TransferJob:
    job = await runs.jobs.get(job_id) if job_id.isalnum() else None
    if job is None or job.integration != name:
        raise NotFoundError("no transfer job has this id", record=job_id, field="job")
    return job


@router.get("/salesforce/{name}/transfer/progress")
async def progress(
    request: Request,
    web: Context,
    runs: Runs,
    session: PageSession,
    name: str,
    job: Annotated[str, Query(max_length=32)],
) -> HTMLResponse:
    """The progress fragment htmx polls while the job runs (it stops polling once done)."""
    found = await _own_job(runs, name, job)
    shown = found.json(runs.clock.now())
    return render(
        web, request, "transfer_progress.html", session, name=name, base=_base(name), job=shown
    )


@router.post("/salesforce/{name}/transfer/{job_id}/resume")
async def resume(runs: Runs, _session: AdminSession, name: str, job_id: str) -> RedirectResponse:
    """Run an interrupted job again from its stored position (admins only)."""
    await runs.resume((await _own_job(runs, name, job_id)).id)
    return RedirectResponse(f"{_base(name)}/transfer", status_code=303)


@router.get("/salesforce/{name}/delete")
async def delete_form(
    request: Request, web: Context, session: PageSession, name: str
) -> HTMLResponse:
    """Ask for confirmation: the integration's name must be typed."""
    await require_integration(web.store, name)
    return render(web, request, "delete.html", session, name=name, base=_base(name), error="")


@router.post("/salesforce/{name}/delete")
async def delete(
    request: Request,
    web: Context,
    runs: Runs,
    session: AdminSession,
    name: str,
    confirm: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Delete the integration once its name is typed (admins only)."""
    await require_integration(web.store, name)
    if confirm != name:
        error = f"type {name} to confirm"
        return render(
            web, request, "delete.html", session, 422, name=name, base=_base(name), error=error
        )
    links = await runs.delete_integration(name, session.user.email)
    return RedirectResponse(
        f"/salesforce/status?name={quote(name)}&deleted={links}", status_code=303
    )


__all__ = ["router"]
