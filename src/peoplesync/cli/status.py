"""CLI: an integration's status page, and pause, resume, budget and delete."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.people.store import PeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.report import status_report
from peoplesync.sync.status.schedule_keeper import step_schedules
from peoplesync.sync.status.state import (
    budget_calls,
    paused,
    replace_share,
    resumed,
)
from peoplesync.sync.status.store import StatusStore
from peoplesync.wiring import services

console = Console(stderr=True)
NameOption = Annotated[str, typer.Option("--name", help="The integration")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
T = TypeVar("T")


def _run(work: Callable[[PeopleStore, StatusStore], Awaitable[T]], name: str) -> T:
    """Run ``work`` on the store of a connected integration; errors exit with code 1."""

    async def run() -> T:
        async with services(Settings()) as wired:
            store = wired.people
            if await store.get_state(f"integration:{name}") is None:
                raise ConfigurationError(
                    f"no Salesforce integration named {name!r}",
                    hint="connect one first: peoplesync salesforce connect ...",
                )
            return await work(store, wired.statuses)

    try:
        return asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def status_command(
    name: NameOption = "default",
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of counts to show")] = 7,
    records: Annotated[int, typer.Option(min=1, help="Record ids shown per error code")] = 10,
    as_json: JsonOption = False,
) -> None:
    """An integration's state, last sync per step, counts and API calls per day, warnings and
    errors grouped by code (record, field, how to fix), and the recent operation log."""

    async def work(store: PeopleStore, statuses: StatusStore) -> dict[str, Any]:
        report = await status_report(statuses, name, days=days, per_code=records)
        held = (await load_profile(store, name)).awaiting_review()
        schedules = await step_schedules(store, statuses, name)
        return {**report, "outbound_awaiting_review": held, "schedules": schedules}

    report = _run(work, name)
    if as_json:
        typer.echo(json.dumps(report))
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    out = Console()
    until = f" until {report['until']}" if report["until"] else ""
    reason = f" ({report['reason']})" if report["reason"] else ""
    out.print(f"[bold]{report['integration']}[/bold]: {report['state']}{until}{reason}")
    out.print(f"API budget: {report['api_budget']['share']:.0%} of the org's daily allowance")
    held = report.get("outbound_awaiting_review") or []
    if held:
        out.print(
            f"[yellow]outbound off until reviewed[/yellow] ({', '.join(held)}): nothing is "
            f"written to Salesforce; {review_hint(report['integration'], held)}",
            soft_wrap=True,
        )
    for step, at in sorted(report["last_sync"].items()):
        out.print(f"last sync of {step}: {at}")
    for row in report.get("schedules", []):
        when = (row["next_run"] or "")[:19] or ("on request" if row["enabled"] else "disabled")
        out.print(f"schedule of {row['step']}: {row['describe']}; next run {when}")
    days = Table("day", "API calls", "created", "updated", "deleted", "rejected")
    for row in report["days"]:
        days.add_row(
            row["day"],
            *(str(row[k]) for k in ("api_calls", "created", "updated", "deleted", "rejected")),
        )
    out.print(days)
    for group in report["problems"]:
        out.print(
            f"[{'red' if group['severity'] == 'error' else 'yellow'}]{group['code']}[/]: "
            f"{group['records']} record(s); how to fix: {group['hint'] or '-'}"
        )
        for example in group["examples"]:
            field = f" field {example['field']}" if example["field"] else ""
            out.print(f"  {example['step']} {example['record']}{field}: {example['message']}")
    log = Table("time", "operation", "object", "records", "outcome", "detail")
    for entry in report["log"]:
        log.add_row(
            entry["at"][:19],
            entry["operation"],
            entry["object"],
            str(entry["records"]),
            entry["outcome"],
            entry["detail"],
        )
    out.print(log)


def pause(name: NameOption = "default") -> None:
    """Pause an integration: `sync run` refuses to run (and --follow stops) until resumed."""

    async def work(_store: PeopleStore, statuses: StatusStore) -> str:
        now = statuses.clock.now()
        after = await statuses.transition(name, lambda s: paused(s, now))
        await statuses.log(name, "pause", detail="paused by a person")
        return after.state.value

    typer.echo(json.dumps({"integration": name, "state": _run(work, name)}))


def resume(name: NameOption = "default") -> None:
    """Resume a paused integration (also clears an API-limit or reconnect state; the next
    run checks again)."""

    async def work(_store: PeopleStore, statuses: StatusStore) -> str:
        now = statuses.clock.now()
        after = await statuses.transition(name, lambda s: resumed(s, now))
        await statuses.log(name, "resume", detail="resumed by a person")
        return after.state.value

    typer.echo(json.dumps({"integration": name, "state": _run(work, name)}))


def budget(
    name: NameOption = "default",
    share: Annotated[
        float | None,
        typer.Option(min=0.01, max=1.0, help="Share of the org's daily API allowance, 0.01-1"),
    ] = None,
) -> None:
    """Show or set the share of the org's daily API allowance this integration may spend."""

    async def work(_store: PeopleStore, statuses: StatusStore) -> float:
        if share is not None:
            await statuses.transition(name, lambda s: replace_share(s, share))
            await statuses.log(name, "budget", detail=f"API share set to {share:.0%}")
        return (await statuses.status(name)).api_share

    current = _run(work, name)
    typer.echo(
        json.dumps(
            {
                "integration": name,
                "share": current,
                "calls_of_1000": budget_calls(current, 1000),
            }
        )
    )


def delete(
    name: NameOption = "default",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete an integration: its sealed credentials, steps, cursors, links to Salesforce records,
    state, counters and errors. Persons and companies stay in People; the log keeps a line."""
    if not yes:
        typer.confirm(f"Delete the Salesforce integration {name!r}?", abort=True)

    async def work(_store: PeopleStore, statuses: StatusStore) -> int:
        links = await statuses.delete_integration(name, f"salesforce:{name}")
        await statuses.log(name, "delete", records=links, detail=f"{links} link(s) removed")
        return links

    links = _run(work, name)
    typer.echo(json.dumps({"integration": name, "deleted": True, "links_removed": links}))


def register_status_commands(salesforce: typer.Typer) -> None:
    """Add ``pause``, ``resume``, ``budget`` and ``delete`` to the ``salesforce`` commands."""
    for command in (pause, resume, budget, delete):
        salesforce.command(command.__name__)(command)
