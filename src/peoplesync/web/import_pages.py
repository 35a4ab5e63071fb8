"""People -> Import and Export in the browser.

Import: upload a CSV or XLSX file; the review page maps each column to an attribute (chosen by
header name, changeable) and shows the dry run's report (row, field, error); "Import" writes
the valid rows. Export: all persons, a segment, or the People list's filter, as CSV or XLSX.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from peoplesync.errors import NotFoundError, RecordError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES
from peoplesync.people.person_import import (
    CONTACT_TARGETS,
    FileKind,
    ImportReport,
    headers_of,
    run_import,
)
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.pages import render
from peoplesync.web.people_files import (
    export_kind,
    export_response,
    forget_upload,
    receive_upload,
    stored_upload,
)
from peoplesync.web.people_filters import conditions_from
from peoplesync.web.person_view import origin
from peoplesync.web.segment_pages import segments_of

router = APIRouter(include_in_schema=False)


async def _targets(web: WebContext) -> list[str]:
    return [*CONTACT_TARGETS, "id", *STANDARD_ATTRIBUTES, *await web.store.attributes()]


def _upload_page(
    request: Request, web: WebContext, session: WebSession, error: RecordError | None = None
) -> HTMLResponse:
    status = record_status(error) if error else 200
    return render(web, request, "import.html", session, status, error=error)


async def _review(
    request: Request,
    web: WebContext,
    session: WebSession,
    *,
    token: str,
    kind: FileKind,
    headers: list[str],
    report: ImportReport | None,
    error: RecordError | None = None,
    mapping: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        web,
        request,
        "import_review.html",
        session,
        record_status(error) if error else 200,
        token=token,
        kind=kind,
        headers=headers,
        mapping=report.mapping if report else (mapping or {}),
        targets=await _targets(web),
        report=report,
        error=error,
    )


@router.get("/imports")
async def import_form(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """The upload form."""
    return _upload_page(request, web, session)


@router.post("/imports")
async def upload(
    request: Request,
    web: Context,
    session: AdminSession,
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Keep the file, map its columns by header name and show the dry run (admins only)."""
    try:
        token, kind, path = await receive_upload(file, session.user.id)
        headers = headers_of(path, kind)
    except RecordError as error:
        return _upload_page(request, web, session, error)
    try:
        report = await run_import(
            web.store, path, kind, mapping=None, origin=origin(session.user), dry_run=True
        )
    except RecordError as error:
        return await _review(
            request,
            web,
            session,
            token=token,
            kind=kind,
            headers=headers,
            report=None,
            error=error,
        )
    return await _review(
        request, web, session, token=token, kind=kind, headers=headers, report=report
    )


@router.post("/imports/{token}")
async def check_or_import(
    request: Request, web: Context, session: AdminSession, token: str
) -> HTMLResponse:
    """Check again with the chosen mapping, or import (admins only)."""
    kind, path = stored_upload(token, session.user.id)
    form = await request.form()
    headers = headers_of(path, kind)
    mapping: dict[str, str] = {}
    for index, header in enumerate(headers):
        chosen = form.get(f"column_{index}")
        if isinstance(chosen, str) and chosen.strip() and header:
            mapping[header] = chosen.strip()
    importing = form.get("action") == "import"
    try:
        report = await run_import(
            web.store,
            path,
            kind,
            mapping=mapping,
            origin=origin(session.user),
            dry_run=not importing,
        )
    except RecordError as error:
        if isinstance(error, NotFoundError):
            raise
        return await _review(
            request,
            web,
            session,
            token=token,
            kind=kind,
            headers=headers,
            report=None,
            error=error,
            mapping=mapping,
        )
    if importing:
        forget_upload(token)
        return render(web, request, "import_done.html", session, report=report)
    return await _review(
        request, web, session, token=token, kind=kind, headers=headers, report=report
    )


@router.get("/exports")
async def export_form(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """Choose what to export (all, a segment, or the list's filter) and the format."""
    params = request.query_params
    try:
        conditions = conditions_from(params)
    except RecordError:
        conditions = []
    return render(
        web,
        request,
        "export.html",
        session,
        segments=await segments_of(web).list(),
        selected=params.get("segment", ""),
        q=params.get("q", "")[:200],
        conditions=conditions,
    )


@router.get("/exports/download")
async def export_download(
    request: Request,
    web: Context,
    _session: PageSession,
    format: Annotated[str, Query(max_length=10)] = "csv",
    segment: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The file, streamed."""
    response: StreamingResponse = await export_response(
        web.store,
        web.engine,
        kind=export_kind(format),
        query=q,
        conditions=conditions_from(request.query_params),
        segment_id=segment or None,
    )
    return response


__all__ = ["router"]
