"""Converting a lead from its page: the same conversion as the SOAP ``convertLead`` call."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.conversion import convert_lead
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.ui_access import UiAccess, UiUser
from peoplesync.sandbox.salesforce.ui_fields import Layout
from peoplesync.sandbox.salesforce.ui_pages import RecordPages, view_url
from peoplesync.sandbox.salesforce.ui_render import page, redirect


def converted_statuses(values: tuple[str, ...]) -> list[str]:
    """Lead Status values that mean converted."""
    chosen = [v for v in values if "converted" in v.lower() and "not converted" not in v.lower()]
    return chosen or ["Closed - Converted"]


def routes(ctx: ApiContext, access: UiAccess) -> list[Route]:
    """GET shows what conversion creates; POST converts."""
    pages = RecordPages(ctx, access)
    status_meta = ctx.records.schema.field("Lead", "Status")
    statuses = converted_statuses(status_meta.picklist_values if status_meta else ())

    async def convert(
        request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        record_id = pages.record_id(request, layout) if layout.sobject == "Lead" else None
        lead = await pages.row("Lead", record_id) if record_id else None
        if record_id is None or lead is None:
            return pages.missing(request, user, layout)
        errors: list[str] = []
        chosen = {k: str(v) for k, v in form.items()} if form is not None else {}
        if lead.get("IsConverted"):
            errors.append("CANNOT_UPDATE_CONVERTED_LEAD: cannot reference converted lead")
        elif form is not None:
            account = chosen.get("account", "new")
            account_id = None
            if account == "existing":
                raw = chosen.get("AccountId", "")
                if not is_valid_id(raw):
                    errors.append("REQUIRED_FIELD_MISSING: Choose an existing account [AccountId]")
                account_id = to18(raw) if is_valid_id(raw) else None
            status = chosen.get("convertedStatus") or statuses[0]
            if not errors:
                result = await convert_lead(
                    ctx,
                    user.principal.user_id,
                    record_id,
                    account_id=account_id,
                    converted_status=status,
                    create_opportunity=not chosen.get("doNotCreateOpportunity"),
                    opportunity_name=chosen.get("opportunityName") or None,
                )
                if result["success"]:
                    return redirect(view_url("Lead", record_id) + "?toast=converted")
                errors = [f"{e['statusCode']}: {e['message']}" for e in result["errors"]]
        return page(
            request,
            "convert.html",
            {
                "user": user,
                "layout": layout,
                "lead": lead,
                "record_id": record_id,
                "accounts": await pages.accounts(),
                "statuses": statuses,
                "chosen": chosen,
                "errors": errors,
            },
            400 if errors else 200,
        )

    return [
        Route(
            "/lightning/r/{sobject}/{record_id}/convert",
            pages.guarded(convert, allow_read_only=False),
            methods=["GET", "POST"],
        )
    ]
