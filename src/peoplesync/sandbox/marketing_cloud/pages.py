"""HTML pages of the sandbox for a person: its data extensions and their rows."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from peoplesync.sandbox.marketing_cloud.store import SandboxStore

ROWS_SHOWN = 200
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;font-size:.85rem}"
)


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


async def extensions_page(_: Request, store: SandboxStore) -> Response:
    """Every data extension with its key, field count and row count."""
    lines = []
    for extension in await store.extensions():
        count = await store.row_count(extension["id"])
        key = escape(extension["key"])
        lines.append(
            f"<tr><td><a href='/sandbox/extensions/{key}'>{escape(extension['name'])}</a></td>"
            f"<td>{key}</td><td>{len(extension['fields'])}</td><td>{count}</td></tr>"
        )
    table = (
        "<table><tr><th>name</th><th>external key</th><th>fields</th><th>rows</th></tr>"
        + "".join(lines)
        + "</table>"
        if lines
        else "<p>No data extensions yet.</p>"
    )
    links = "<p><a href='/sandbox/journeys'>journeys</a> run in this sandbox</p>"
    return page("Marketing Cloud sandbox: data extensions", links + table)


async def rows_page(request: Request, store: SandboxStore) -> Response:
    """The first rows of one data extension, newest last, every field a column."""
    key = request.path_params["key"]
    extension = await store.extension(f"key:{key}")
    if extension is None:
        return page("Not found", f"<p>No data extension keyed {escape(key)}.</p>")
    names = [field["name"] for field in extension["fields"]]
    rows = await store.rows(extension["id"])
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(row.get(n) or ''))}</td>" for n in names) + "</tr>"
        for row in rows[:ROWS_SHOWN]
    )
    noun = "row" if len(rows) == 1 else "rows"
    more = f", first {ROWS_SHOWN} shown" if len(rows) > ROWS_SHOWN else ""
    shown = f"<p>{len(rows)} {noun}{more}.</p>"
    links = (
        "<p><a href='/sandbox'>data extensions</a> · <a href='/sandbox/journeys'>journeys</a></p>"
    )
    return page(
        f"{extension['name']} ({key})", f"{links}{shown}<table><tr>{head}</tr>{body}</table>"
    )
