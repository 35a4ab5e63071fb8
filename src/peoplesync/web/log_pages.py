"""The log page: the operation log and the record errors of an integration, filtered by time
range, operation, object, record and severity, a page at a time."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from peoplesync.errors import RecordError
from peoplesync.sync.status.log_query import Page, log_filter, operations_page, problems_page
from peoplesync.web.access import Context, PageSession
from peoplesync.web.integration_view import require_integration
from peoplesync.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
Text = Annotated[str, Query(max_length=100)]


@router.get("/salesforce/{name}/log")
async def log_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    operation: Annotated[str, Query(max_length=30)] = "",
    object: Text = "",
    record: Text = "",
    code: Text = "",
    errors_only: Annotated[str, Query(max_length=5)] = "",
    after: Annotated[str, Query(max_length=400)] = "",
    errors_after: Annotated[str, Query(max_length=400)] = "",
) -> HTMLResponse:
    """Operations (newest first) and open errors (last seen first), each with a next page."""
    await require_integration(web.store, name)
    values = {
        "since": since,
        "until": until,
        "operation": operation,
        "object": object,
        "record": record,
        "code": code,
        "errors_only": "1" if errors_only else "",
    }
    operations = problems = Page([], None)
    field_errors: dict[str, str] = {}
    try:
        where = log_filter(
            since=since,
            until=until,
            operation=operation,
            object=object,
            record=record,
            code=code,
            errors_only=bool(errors_only),
        )
        engine = web.engine
        operations = await operations_page(engine, name, where, after=after or None)
        problems = await problems_page(engine, name, where, after=errors_after or None)
    except RecordError as error:
        field_errors[error.field or "general"] = error.detail + (
            f" ({error.hint})" if error.hint else ""
        )
    kept = {key: value for key, value in values.items() if value}
    base = f"/salesforce/{quote(name, safe='')}/log"
    return render(
        web,
        request,
        "log.html",
        session,
        422 if field_errors else 200,
        name=name,
        values=values,
        errors=field_errors,
        operations=operations,
        problems=problems,
        next_operations=f"{base}?{urlencode({**kept, 'after': operations.next})}"
        if operations.next
        else None,
        next_problems=f"{base}?{urlencode({**kept, 'errors_after': problems.next})}"
        if problems.next
        else None,
        first_page=f"{base}?{urlencode(kept)}" if after or errors_after else None,
    )


__all__ = ["router"]
