"""The record UI's addresses: lists, record pages and forms at Lightning's paths, and the
classic record-id address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.ui_access import HOME, UiAccess
from peoplesync.sandbox.salesforce.ui_fields import LAYOUTS
from peoplesync.sandbox.salesforce.ui_forms import RecordForms
from peoplesync.sandbox.salesforce.ui_pages import list_url, view_url
from peoplesync.sandbox.salesforce.ui_render import problem, redirect


def routes(ctx: ApiContext, access: UiAccess) -> list[Route]:
    """The record pages (the convert page and record-id addresses come separately)."""
    pages = RecordForms(ctx, access)

    async def home(request: Request) -> Response:
        return redirect(HOME)

    async def object_home(request: Request) -> Response:
        return redirect(list_url(request.path_params["sobject"]))

    async def by_id(request: Request) -> Response:
        # Classic addresses (https://instance/{id}) open the record's Lightning page.
        raw = request.path_params["record_id"]
        owner = ctx.records.schema.prefix_owner(to18(raw)) if is_valid_id(raw) else None
        if owner not in LAYOUTS:
            return problem(request, 404, "Page not found", "This page isn't available here.")
        return redirect(view_url(str(owner), to18(raw)))

    return [
        Route("/", home),
        Route("/lightning", home),
        Route("/lightning/page/home", home),
        Route("/lightning/o/{sobject}/home", object_home),
        Route("/lightning/o/{sobject}/list", pages.guarded(pages.list_page)),
        Route(
            "/lightning/o/{sobject}/new",
            pages.guarded(pages.new, allow_read_only=False),
            methods=["GET", "POST"],
        ),
        Route("/lightning/r/{sobject}/{record_id}/view", pages.guarded(pages.view)),
        Route(
            "/lightning/r/{sobject}/{record_id}/edit",
            pages.guarded(pages.edit, allow_read_only=False),
            methods=["GET", "POST"],
        ),
        Route(
            "/lightning/r/{sobject}/{record_id}/delete",
            pages.guarded(pages.delete, allow_read_only=False),
            methods=["GET", "POST"],
        ),
        Route("/{record_id}", by_id),
    ]
