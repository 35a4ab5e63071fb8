"""The record UI's forms: new, edit and delete, written through the record service."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from peoplesync.sandbox.salesforce.schema import FieldMeta
from peoplesync.sandbox.salesforce.ui_access import UiUser
from peoplesync.sandbox.salesforce.ui_fields import (
    FormErrors,
    Layout,
    editable_fields,
    form_values,
    labels,
    place_errors,
    values_to_create,
    values_to_update,
)
from peoplesync.sandbox.salesforce.ui_pages import RecordPages, list_url, view_url
from peoplesync.sandbox.salesforce.ui_render import page, redirect


class RecordForms(RecordPages):
    """The record pages with their forms (what a user may change)."""

    async def form_page(
        self,
        request: Request,
        user: UiUser,
        layout: Layout,
        *,
        row: dict[str, Any] | None,
        form: FormData | None,
        errors: FormErrors | None,
    ) -> Response:
        """The new or edit form, with what was entered and the save's errors."""
        fields = editable_fields(self.schema, layout, creating=row is None)
        values = form_values(fields, {k: str(v) for k, v in form.items()} if form else None, row)
        names_of = labels(self.schema, layout.sobject)
        accounts = await self.accounts() if any(m.name == "AccountId" for m in fields) else []
        if row is not None and row.get("AccountId") and row["AccountId"] not in dict(accounts):
            accounts += [(i, n) for i, (_, n) in (await self.names([row["AccountId"]])).items()]
        by_field = errors.by_field if errors else {}
        sections = [
            {
                "title": title,
                "fields": [
                    _widget(meta, names_of, values[meta.name], by_field.get(meta.name), accounts)
                    for meta in fields
                    if meta.name in names
                ],
            }
            for title, names in layout.sections
        ]
        action = (
            f"/lightning/o/{layout.sobject}/new"
            if row is None
            else f"/lightning/r/{layout.sobject}/{row['Id']}/edit"
        )
        cancel = list_url(layout.sobject) if row is None else view_url(layout.sobject, row["Id"])
        return page(
            request,
            "form.html",
            {
                "user": user,
                "layout": layout,
                "title": f"New {layout.label}" if row is None else f"Edit {row.get('Name')}",
                "sections": [s for s in sections if s["fields"]],
                "action": action,
                "cancel": cancel,
                "general": errors.general if errors else [],
                "invalid": [names_of.get(n, n) for n in by_field],
            },
            400 if errors else 200,
        )

    async def new(
        self, request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        if form is None:
            return await self.form_page(request, user, layout, row=None, form=None, errors=None)
        fields = editable_fields(self.schema, layout, creating=True)
        submitted = {k: str(v) for k, v in form.items()}
        (result,) = await self.records.create(
            user.principal.user_id, layout.sobject, [values_to_create(fields, submitted)]
        )
        if not result.success or result.id is None:
            errors = place_errors(result.errors, [m.name for m in fields])
            return await self.form_page(request, user, layout, row=None, form=form, errors=errors)
        return redirect(view_url(layout.sobject, result.id) + "?toast=created")

    async def edit(
        self, request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        record_id = self.record_id(request, layout)
        row = await self.row(layout.sobject, record_id) if record_id else None
        if record_id is None or row is None:
            return self.missing(request, user, layout)
        if form is None:
            return await self.form_page(request, user, layout, row=row, form=None, errors=None)
        fields = editable_fields(self.schema, layout, creating=False)
        changes = values_to_update(fields, {k: str(v) for k, v in form.items()}, row)
        (result,) = await self.records.update(
            user.principal.user_id, layout.sobject, [{**changes, "Id": record_id}]
        )
        if not result.success:
            errors = place_errors(result.errors, [m.name for m in fields])
            return await self.form_page(request, user, layout, row=row, form=form, errors=errors)
        return redirect(view_url(layout.sobject, record_id) + "?toast=saved")

    async def delete(
        self, request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        record_id = self.record_id(request, layout)
        row = await self.row(layout.sobject, record_id) if record_id else None
        if record_id is None or row is None:
            return self.missing(request, user, layout)
        errors: list[str] = []
        if form is not None:
            (result,) = await self.records.delete(user.principal.user_id, [record_id])
            if result.success:
                return redirect(list_url(layout.sobject) + "?toast=deleted")
            errors = [f"{e.get('statusCode')}: {e.get('message')}" for e in result.errors]
        return page(
            request,
            "delete.html",
            {
                "user": user,
                "layout": layout,
                "name": row.get("Name") or record_id,
                "record_id": record_id,
                "errors": errors,
            },
            400 if errors else 200,
        )


def _widget(
    meta: FieldMeta,
    names_of: dict[str, str],
    value: str,
    errors: list[str] | None,
    accounts: list[tuple[str, str]],
) -> dict[str, Any]:
    kind = {
        "picklist": "select",
        "reference": "select",
        "textarea": "textarea",
        "boolean": "checkbox",
    }.get(meta.type, "input")
    options: list[tuple[str, str]] = []
    if meta.type == "picklist":
        options = [(v, v) for v in meta.picklist_values]
        if value and value not in meta.picklist_values:
            options.append((value, value))
    elif meta.type == "reference":
        options = list(accounts)
    input_type = {"email": "email", "phone": "tel", "url": "url", "date": "date"}.get(
        meta.type, "text"
    )
    return {
        "name": meta.name,
        "label": names_of.get(meta.name, meta.name),
        "kind": kind,
        "input_type": input_type,
        "value": value,
        "required": meta.required_on_create,
        "options": options,
        "errors": errors or [],
    }
