"""HTML pages of the sandbox's journeys: the runs, one run's contacts per activity and
branch, and one contact's path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from peoplesync.sandbox.marketing_cloud.journey_store import JourneyStore
from peoplesync.sandbox.marketing_cloud.pages import page

CONTACTS_SHOWN = 200


def _when(moment: float | None) -> str:
    if moment is None:
        return "running"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{escape(name)}</th>" for name in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


async def runs_page(_: Request, journeys: JourneyStore) -> Response:
    """Every run, newest first, with its contacts, ejections and time."""
    rows = []
    for run in await journeys.runs():
        summary = run["summary"] or {}
        rows.append(
            [
                f"<a href='/sandbox/journeys/{quote(run['run'])}'>{escape(run['run'])}</a>",
                escape(run["journey"]),
                _when(run["started"]),
                _when(run["finished"]),
                str(summary.get("contacts", "")),
                str(summary.get("ejected", "")),
            ]
        )
    body = (
        _table(["run", "journey", "started", "finished", "contacts", "ejected"], rows)
        if rows
        else "<p>No journey has run yet: <code>peoplesync sandbox marketing-cloud journeys "
        "run --config journey.yaml</code>.</p>"
    )
    return page(
        "Marketing Cloud sandbox: journeys", "<p><a href='/sandbox'>data extensions</a></p>" + body
    )


async def run_page(request: Request, journeys: JourneyStore) -> Response:
    """One run: contacts per activity, status and branch; the first contacts, linked."""
    run_id = request.path_params["run"]
    found = [run for run in await journeys.runs() if run["run"] == run_id]
    if not found:
        return page("Not found", f"<p>No journey run {escape(run_id)}.</p>")
    run = found[0]
    counts = [
        [escape(c["activity"]), escape(c["status"]), escape(c["branch"]), str(c["contacts"])]
        for c in await journeys.counts(run_id)
    ]
    contacts = await journeys.contacts(run_id, CONTACTS_SHOWN)
    links = ", ".join(
        f"<a href='/sandbox/journeys/{quote(run_id)}/contacts/{quote(key)}'>{escape(key)}</a>"
        for key in contacts
    )
    summary = run["summary"]
    shown = f"<pre>{escape(json.dumps(summary, indent=2))}</pre>" if summary else "<p>Running.</p>"
    return page(
        f"Journey {run['journey']}: run {run_id}",
        "<p><a href='/sandbox/journeys'>all runs</a></p>"
        + _table(["activity", "status", "branch", "contacts"], counts)
        + f"<h2>Contacts (first {CONTACTS_SHOWN})</h2><p>{links}</p><h2>Summary</h2>{shown}",
    )


async def contact_page(request: Request, journeys: JourneyStore) -> Response:
    """One contact's path through a run: activity, time, status code, out-arguments, branch."""
    run_id, key = request.path_params["run"], request.path_params["contact"]
    steps = await journeys.path(run_id, key)
    if not steps:
        return page("Not found", f"<p>Contact {escape(key)} is not in run {escape(run_id)}.</p>")
    rows = [
        [
            str(step["seq"]),
            escape(step["activity"]),
            _when(step["at"]),
            escape(step["status"]),
            "" if step["code"] is None else str(step["code"]),
            escape(json.dumps(step["out"])),
            escape(step["branch"] or ""),
            f"{step['ms']:.1f}",
        ]
        for step in steps
    ]
    return page(
        f"Contact {key} in {run_id}",
        f"<p><a href='/sandbox/journeys/{quote(run_id)}'>the run</a></p>"
        + _table(["#", "activity", "at", "status", "code", "out-arguments", "branch", "ms"], rows),
    )
