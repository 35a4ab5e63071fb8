"""The record UI: lists, record pages, new / edit / delete forms at Lightning's addresses.

Writes go through the record service like REST writes do (same rules, system fields and
change events); the UI is no API, so its requests do not count toward the API allowance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.schema import FieldMeta
from peoplesync.sandbox.salesforce.ui_access import CSRF_FAILED, UiAccess, UiUser
from peoplesync.sandbox.salesforce.ui_fields import (
    CONVERTED_FIELDS,
    LAYOUTS,
    Layout,
    labels,
    shown,
)
from peoplesync.sandbox.salesforce.ui_render import page, problem

PAGE_SIZE = 25
Handler = Callable[[Request, UiUser, Layout, FormData | None], Awaitable[Response]]


def view_url(sobject: str, record_id: str) -> str:
    """Where Lightning shows a record."""
    return f"/lightning/r/{sobject}/{record_id}/view"


def list_url(sobject: str) -> str:
    """Where Lightning lists an object's records."""
    return f"/lightning/o/{sobject}/list"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RecordPages:
    """Pages over the org's records for the signed-in user."""

    def __init__(self, ctx: ApiContext, access: UiAccess) -> None:
        self.ctx = ctx
        self.access = access
        self.records = ctx.records
        self.schema = ctx.records.schema

    # --- reading ---------------------------------------------------------------------

    async def row(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A live (not deleted) record, or None."""
        found = await self.records.fetch(sobject, [record_id], include_deleted=False)
        return found.get(record_id)

    async def names(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Object and name of each referenced record (deleted ones too)."""
        by_object: dict[str, list[str]] = {}
        for record_id in {i for i in ids if i}:
            owner = self.schema.prefix_owner(record_id)
            if owner is not None and self.schema.field(owner, "Name") is not None:
                by_object.setdefault(owner, []).append(record_id)
        found: dict[str, tuple[str, str]] = {}
        for sobject, wanted in by_object.items():
            for record_id, row in (await self.records.fetch(sobject, wanted)).items():
                found[record_id] = (sobject, str(row.get("Name") or record_id))
        return found

    async def accounts(self, limit: int = 500) -> list[tuple[str, str]]:
        """Accounts to choose from (by name)."""
        async with self.records.storage.conn.execute(
            'SELECT "Id", "Name" FROM "Account" WHERE "IsDeleted" = 0 ORDER BY "Name" LIMIT ?',
            (limit,),
        ) as cursor:
            return [(str(r[0]), str(r[1])) async for r in cursor]

    def cell(
        self, meta: FieldMeta | None, value: Any, names: dict[str, tuple[str, str]]
    ) -> dict[str, str | None]:
        """One shown value, linked when it references a record."""
        if meta is not None and meta.type == "reference" and value in names:
            sobject, name = names[value]
            link = view_url(sobject, value) if sobject in LAYOUTS else None
            return {"text": name, "href": link}
        return {"text": shown(meta, value), "href": None}

    # --- access ----------------------------------------------------------------------

    def guarded(self, handler: Handler, *, allow_read_only: bool = True) -> Callable[..., Any]:
        """Sign-in, CSRF on posts, and a known object for ``handler``."""

        async def endpoint(request: Request) -> Response:
            user = await self.access.user(request)
            if user is None:
                if request.method != "GET":
                    return problem(request, 401, "Session expired", "Log in again.")
                return self.access.login_redirect(request)
            layout = LAYOUTS.get(request.path_params["sobject"])
            if layout is None or not (allow_read_only or layout.editable):
                return problem(
                    request, 404, "Page not found", "This page isn't available here.", user
                )
            form = None
            if request.method == "POST":
                form = await request.form()
                if not self.access.csrf_ok(user, form):
                    return problem(request, 403, "Forbidden", CSRF_FAILED, user)
            return await handler(request, user, layout, form)

        return endpoint

    def record_id(self, request: Request, layout: Layout) -> str | None:
        """The path's record id when it is an id of the page's object."""
        raw = str(request.path_params.get("record_id", ""))
        if not is_valid_id(raw) or self.schema.prefix_owner(to18(raw)) != layout.sobject:
            return None
        return to18(raw)

    def missing(self, request: Request, user: UiUser, layout: Layout) -> Response:
        """The page of a record that does not exist (or was deleted)."""
        return problem(
            request,
            404,
            "Record not found",
            f"This {layout.label.lower()} doesn't exist or was deleted.",
            user,
        )

    # --- pages -----------------------------------------------------------------------

    async def list_page(
        self, request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        search = request.query_params.get("q", "").strip()
        try:
            number = min(max(1, int(request.query_params.get("page", "1"))), 100_000)
        except ValueError:
            number = 1
        where = ['"IsDeleted" = 0']
        params: list[Any] = []
        if layout.sobject == "Lead":
            where.append('"IsConverted" = 0')  # Salesforce lists no converted leads
        if search:
            where.append(
                "(" + " OR ".join(f"\"{name}\" LIKE ? ESCAPE '\\'" for name in layout.search) + ")"
            )
            params += [_like(search)] * len(layout.search)
        sql = (
            f'SELECT * FROM "{layout.sobject}" WHERE {" AND ".join(where)} '
            'ORDER BY "LastModifiedDate" DESC, "Id" DESC LIMIT ? OFFSET ?'
        )
        params += [PAGE_SIZE + 1, (number - 1) * PAGE_SIZE]
        async with self.records.storage.conn.execute(sql, tuple(params)) as cursor:
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, r, strict=True)) async for r in cursor]
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        metas = [self.schema.field(layout.sobject, name) for name in layout.columns]
        references = [
            row.get(m.name)
            for row in rows
            for m in metas
            if m is not None and m.type == "reference"
        ]
        names = await self.names([r for r in references if isinstance(r, str)])
        shown_rows = [
            {
                "id": row["Id"],
                "href": view_url(layout.sobject, row["Id"]),
                "cells": [self.cell(m, row.get(m.name) if m else None, names) for m in metas],
            }
            for row in rows
        ]
        toast = (
            f"{layout.label} was deleted." if request.query_params.get("toast") == "deleted" else ""
        )
        return page(
            request,
            "list.html",
            {
                "user": user,
                "layout": layout,
                "labels": labels(self.schema, layout.sobject),
                "rows": shown_rows,
                "search": search,
                "number": number,
                "more": more,
                "toast": toast,
            },
        )

    async def view(
        self, request: Request, user: UiUser, layout: Layout, form: FormData | None
    ) -> Response:
        record_id = self.record_id(request, layout)
        row = await self.row(layout.sobject, record_id) if record_id else None
        if record_id is None or row is None:
            return self.missing(request, user, layout)
        names_of = labels(self.schema, layout.sobject)
        converted = bool(row.get("IsConverted")) if layout.sobject == "Lead" else False
        extra = (("Conversion", CONVERTED_FIELDS),) if converted else ()
        system = (("System Information", ("CreatedDate", "LastModifiedDate")),)
        wanted = [n for _, fields in (*layout.sections, *extra) for n in fields]
        names = await self.names([row[n] for n in wanted if isinstance(row.get(n), str)])
        sections = [
            {
                "title": title,
                "fields": [
                    {
                        "name": name,
                        "label": names_of.get(name, name),
                        **self.cell(self.schema.field(layout.sobject, name), row.get(name), names),
                    }
                    for name in fields
                ],
            }
            for title, fields in (*extra, *layout.sections, *system)
        ]
        related: list[dict[str, str]] = []
        if layout.sobject == "Account":
            async with self.records.storage.conn.execute(
                'SELECT "Id", "Name", "Email" FROM "Contact" WHERE "AccountId" = ? AND "IsDeleted" = 0 ORDER BY "Name" LIMIT 50',
                (record_id,),
            ) as cursor:
                related = [
                    {"href": view_url("Contact", r[0]), "name": r[1], "email": r[2] or ""}
                    async for r in cursor
                ]
        toast = {
            "created": f'{layout.label} "{row.get("Name")}" was created.',
            "saved": f'{layout.label} "{row.get("Name")}" was saved.',
            "converted": "Your lead has been converted.",
        }.get(request.query_params.get("toast", ""), "")
        return page(
            request,
            "record.html",
            {
                "user": user,
                "layout": layout,
                "row": row,
                "name": row.get("Name") or record_id,
                "sections": sections,
                "converted": converted,
                "related": related,
                "toast": toast,
            },
        )
