"""REST twins of the transfer, log and status-extra pages: preview, start, progress, resume,
resync, retry, the log and errors, delete. Viewers read; only admins start or delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import ConfigurationError, NotFoundError
from peoplesync.sync.status.log_query import MAX_LIMIT, log_filter, operations_page, problems_page
from peoplesync.sync.transfer.jobs import TransferJob
from peoplesync.sync.transfer.request import MAX_DAYS, MAX_FILTER, MAX_STATUSES, parse_request
from peoplesync.web.access import ApiAdmin, ApiUser, Context
from peoplesync.web.integration_view import require_integration
from peoplesync.workers.transfer_runs import TransferRuns

router = APIRouter(tags=["transfers"])


def transfer_runs(request: Request) -> TransferRuns:
    """The application's transfer runner."""
    runs: TransferRuns = request.app.state.transfers
    return runs


Runs = Annotated[TransferRuns, Depends(transfer_runs)]


class TransferBody(BaseModel):
    """A transfer's own filters; all optional (empty: every record the steps' filters
    match)."""

    model_config = ConfigDict(extra="forbid")

    modified_within_days: int | None = Field(default=None, ge=1, le=MAX_DAYS, examples=[90])
    lead_statuses: list[Annotated[str, Field(max_length=255)]] = Field(
        default_factory=list, max_length=MAX_STATUSES, examples=[["Open - Not Contacted"]]
    )
    filter: str | None = Field(
        default=None, max_length=MAX_FILTER, examples=["Country = 'Germany'"]
    )
    steps: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)


def _request(body: TransferBody | None) -> Any:
    body = body or TransferBody()
    return parse_request(
        modified_within_days=body.modified_within_days,
        lead_statuses=body.lead_statuses,
        condition=body.filter,
        steps=body.steps,
    )


async def _job(runs: TransferRuns, name: str, job_id: str) -> TransferJob:
    job = await runs.jobs.get(job_id) if job_id.isalnum() else None
    if job is None or job.integration != name:
        raise NotFoundError("no transfer job has this id", record=job_id, field="job_id")
    return job


@router.post("/integrations/{name}/transfer/preview")
async def preview_transfer(
    runs: Runs, _user: ApiUser, name: str, body: TransferBody | None = None
) -> dict[str, Any]:
    """Dry run: counts and samples by outcome (create, update, unchanged, reject) per step;
    reads Salesforce, writes nothing. Viewers may preview."""
    return await runs.preview(name, _request(body))


@router.post("/integrations/{name}/transfers", status_code=202)
async def start_transfer(
    runs: Runs, user: ApiAdmin, name: str, body: TransferBody | None = None
) -> dict[str, Any]:
    """Start a transfer in the background (admins only; 409 while one runs). Follow it at
    /integrations/{name}/transfers/{job_id}."""
    job = await runs.start(name, "transfer", _request(body), user.email)
    return job.json(runs.clock.now())


@router.post("/integrations/{name}/resync", status_code=202)
async def start_resync(runs: Runs, user: ApiAdmin, name: str) -> dict[str, Any]:
    """Read every record again and apply all mapped fields, even unchanged ones (admins
    only)."""
    job = await runs.start(name, "resync", parse_request(), user.email)
    return job.json(runs.clock.now())


@router.post("/integrations/{name}/retry", status_code=202)
async def retry_failed(runs: Runs, user: ApiAdmin, name: str) -> dict[str, Any]:
    """Retry failed records: read the failed Salesforce records again and push failed
    persons now (admins only; 409 when nothing failed)."""
    job = await runs.start(name, "retry", parse_request(), user.email)
    return job.json(runs.clock.now())


@router.get("/integrations/{name}/transfers")
async def list_transfers(
    web: Context,
    runs: Runs,
    _user: ApiUser,
    name: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """The integration's most recent jobs with their progress, newest first."""
    await require_integration(web.store, name)
    now = runs.clock.now()
    return {"items": [job.json(now) for job in await runs.jobs.latest(name, limit=limit)]}


@router.get("/integrations/{name}/transfers/{job_id}")
async def transfer_progress(runs: Runs, _user: ApiUser, name: str, job_id: str) -> dict[str, Any]:
    """A job's progress: records read, applied, rejected and in all; state running, done,
    failed or interrupted; errors."""
    return (await _job(runs, name, job_id)).json(runs.clock.now())


@router.post("/integrations/{name}/transfers/{job_id}/resume", status_code=202)
async def resume_transfer(runs: Runs, _user: ApiAdmin, name: str, job_id: str) -> dict[str, Any]:
    """Resume an interrupted job from its stored position (admins only; 409 unless it was
    interrupted)."""
    job = await _job(runs, name, job_id)
    resumed = await runs.resume(job.id)
    if resumed is None:
        raise ConfigurationError(
            f"the job is {job.shown_state(runs.clock.now())}, not interrupted",
            hint="only an interrupted job can be resumed",
        )
    return resumed.json(runs.clock.now())


@router.get("/integrations/{name}/log")
async def operation_log(
    web: Context,
    _user: ApiUser,
    name: str,
    since: Annotated[str | None, Query(max_length=40, description="ISO date or time")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO date or time")] = None,
    operation: Annotated[str, Query(max_length=30)] = "",
    object: Annotated[str, Query(max_length=100, description="Object or step")] = "",
    record: Annotated[str, Query(max_length=100, description="Record id")] = "",
    errors_only: bool = False,
    after: Annotated[str | None, Query(max_length=400, description="Cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> dict[str, Any]:
    """The operation log, newest first, filtered; keyset pagination (pass ``next`` as
    ``after``)."""
    await require_integration(web.store, name)
    where = log_filter(
        since=since,
        until=until,
        operation=operation,
        object=object,
        record=record,
        errors_only=errors_only,
    )
    page = await operations_page(web.engine, name, where, after=after, limit=limit)
    return {"items": page.items, "next": page.next}


@router.get("/integrations/{name}/errors")
async def record_errors(
    web: Context,
    _user: ApiUser,
    name: str,
    since: Annotated[str | None, Query(max_length=40, description="ISO date or time")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO date or time")] = None,
    object: Annotated[str, Query(max_length=100, description="Step")] = "",
    record: Annotated[str, Query(max_length=100, description="Record id")] = "",
    code: Annotated[str, Query(max_length=100, description="Error code")] = "",
    errors_only: bool = False,
    after: Annotated[str | None, Query(max_length=400, description="Cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> dict[str, Any]:
    """Open warnings and errors by record (code, field, message, how to fix), last seen
    first; keyset pagination."""
    await require_integration(web.store, name)
    where = log_filter(
        since=since, until=until, object=object, record=record, code=code, errors_only=errors_only
    )
    page = await problems_page(web.engine, name, where, after=after, limit=limit)
    return {"items": page.items, "next": page.next}


@router.delete("/integrations/{name}")
async def delete_integration(runs: Runs, user: ApiAdmin, name: str) -> dict[str, Any]:
    """Delete the integration: sealed credentials, steps, cursors, links, state, counters,
    errors and jobs. Persons and companies stay; the log keeps a line (admins only)."""
    links = await runs.delete_integration(name, user.email)
    return {"integration": name, "deleted": True, "links_removed": links}


__all__ = ["router", "transfer_runs"]
