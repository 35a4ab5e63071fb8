"""Saved segments in the browser: list (with member counts), create, edit, delete; opening a
segment shows the People list filtered by it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import NotFoundError, RecordError
from peoplesync.people.person_filter import Condition, field_kinds
from peoplesync.people.person_search import count_matching
from peoplesync.people.segment_store import Segment, SegmentStore
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.pages import render
from peoplesync.web.people_filters import OP_LABELS, conditions_from

router = APIRouter(include_in_schema=False)


def segments_of(web: WebContext) -> SegmentStore:
    """The segment store on the app's database."""
    return SegmentStore(web.engine, web.clock)


async def _form(
    request: Request,
    web: WebContext,
    session: WebSession,
    *,
    segment_id: str | None,
    name: str,
    query: str,
    conditions: list[Condition],
    error: RecordError | None = None,
) -> HTMLResponse:
    return render(
        web,
        request,
        "segment_form.html",
        session,
        record_status(error) if error else 200,
        segment_id=segment_id,
        name=name,
        query=query,
        conditions=conditions,
        fields=field_kinds(await web.store.attributes()),
        op_labels=OP_LABELS,
        error=error,
    )


async def _save(
    request: Request, web: WebContext, session: WebSession, segment_id: str | None
) -> Response:
    form = await request.form()
    texts = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    name = (texts.get("name") or [""])[0]
    query = (texts.get("q") or [""])[0]
    conditions: list[Condition] = []
    try:
        conditions = conditions_from(texts)
        saved = await segments_of(web).save(
            name=name,
            query=query,
            conditions=conditions,
            definitions=await web.store.attributes(),
            author=session.user.email,
            segment_id=segment_id,
        )
    except RecordError as error:
        if isinstance(error, NotFoundError):
            raise
        return await _form(
            request,
            web,
            session,
            segment_id=segment_id,
            name=name,
            query=query,
            conditions=conditions,
            error=error,
        )
    return RedirectResponse(f"/people?segment={quote(saved.id)}", status_code=303)


@router.get("/segments")
async def segment_list(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """Every segment; member counts load after the page (each is a count over persons)."""
    return render(web, request, "segments.html", session, segments=await segments_of(web).list())


@router.get("/segments/new")
async def new_segment(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """The segment form, filled from the People list's filter when it came from there."""
    params = request.query_params
    try:
        conditions = conditions_from(params)
    except RecordError:
        conditions = []
    return await _form(
        request,
        web,
        session,
        segment_id=None,
        name="",
        query=params.get("q", "")[:200],
        conditions=conditions,
    )


@router.post("/segments/new")
async def create_segment(request: Request, web: Context, session: AdminSession) -> Response:
    """Save a new segment and open it (admins only)."""
    return await _save(request, web, session, None)


@router.get("/segments/{segment_id}")
async def open_segment(web: Context, _session: PageSession, segment_id: str) -> RedirectResponse:
    """A segment is the People list filtered by it."""
    segment = await segments_of(web).get(segment_id)
    return RedirectResponse(f"/people?segment={quote(segment.id)}", status_code=303)


@router.get("/segments/{segment_id}/count")
async def segment_count(web: Context, _session: PageSession, segment_id: str) -> HTMLResponse:
    """How many persons are in the segment (an htmx fragment of the list)."""
    segment: Segment = await segments_of(web).get(segment_id)
    try:
        checked = segment.checked(await web.store.attributes())
    except RecordError as error:
        return HTMLResponse(f'<span class="error">{_escape(error.detail)}</span>')
    members = await count_matching(web.engine, query=segment.query, conditions=checked)
    return HTMLResponse(f"<span data-count>{members}</span>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@router.get("/segments/{segment_id}/edit")
async def edit_segment_form(
    request: Request, web: Context, session: PageSession, segment_id: str
) -> HTMLResponse:
    """The segment form with the segment's filter."""
    segment = await segments_of(web).get(segment_id)
    return await _form(
        request,
        web,
        session,
        segment_id=segment.id,
        name=segment.name,
        query=segment.query,
        conditions=list(segment.conditions),
    )


@router.post("/segments/{segment_id}/edit")
async def edit_segment(
    request: Request, web: Context, session: AdminSession, segment_id: str
) -> Response:
    """Save the segment's new name or filter (admins only)."""
    await segments_of(web).get(segment_id)
    return await _save(request, web, session, segment_id)


@router.post("/segments/{segment_id}/delete")
async def delete_segment(web: Context, _session: AdminSession, segment_id: str) -> RedirectResponse:
    """Forget the segment (its persons stay; admins only)."""
    await segments_of(web).delete(segment_id)
    return RedirectResponse("/segments", status_code=303)


__all__ = ["router", "segments_of"]
