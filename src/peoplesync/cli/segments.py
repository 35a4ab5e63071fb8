"""CLI commands for saved People segments (what People -> Segments does in the browser)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.people.person_filter import conditions_from_text
from peoplesync.people.person_search import count_matching
from peoplesync.settings import Settings
from peoplesync.wiring import services

segments_app = typer.Typer(help="Saved People segments (named filters).", no_args_is_help=True)
console = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


def _run(work: Any) -> Any:
    try:
        return asyncio.run(work)
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from None


@segments_app.command("add")
def add_segment(
    name: str,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="field:op:value, e.g. city:equals:London (repeat)"),
    ] = None,
    search: Annotated[str, typer.Option("--search", help="Name or email prefix")] = "",
) -> None:
    """Save a segment (or replace the one of that name)."""

    async def run() -> int:
        async with services(Settings()) as wired:
            store = wired.people
            segments = wired.segments()
            existing = {s.name: s.id for s in await segments.list()}
            definitions = await store.attributes()
            saved = await segments.save(
                name=name,
                query=search,
                conditions=conditions_from_text(filters or []),
                definitions=definitions,
                author="cli",
                segment_id=existing.get(name.strip()),
            )
            checked = saved.checked(definitions)
            return await count_matching(wired.engine, query=saved.query, conditions=checked)

    members = _run(run())
    console.print(f"segment {name.strip()} saved ({members} person(s))")


@segments_app.command("list")
def list_segments(as_json: JsonOption = False) -> None:
    """Saved segments with their member counts."""

    async def run() -> list[dict[str, Any]]:
        async with services(Settings()) as wired:
            store = wired.people
            definitions = await store.attributes()
            rows = []
            for segment in await wired.segments().list():
                checked = segment.checked(definitions)
                members = await count_matching(
                    wired.engine, query=segment.query, conditions=checked
                )
                rows.append({**segment.json(), "members": members})
            return rows

    rows = _run(run())
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        shown = " and ".join(f"{f['field']} {f['op']} {f['value']}".strip() for f in row["filters"])
        typer.echo(f"{row['name']:30} {row['members']:>9}  {shown}")


@segments_app.command("remove")
def remove_segment(name: str) -> None:
    """Forget a segment (its persons stay)."""

    async def run() -> None:
        async with services(Settings()) as wired:
            segments = wired.segments()
            await segments.delete((await segments.by_name(name)).id)

    _run(run())
    console.print(f"segment {name} removed")
