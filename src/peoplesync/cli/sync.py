"""CLI: ``peoplesync sync run``: inbound passes, once or following changes in real time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from peoplesync.errors import PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync.status.state import RECHECK
from peoplesync.wiring import people_store, status_store
from peoplesync.workers.events import Event, PassDone, Retrying, StreamTrouble
from peoplesync.workers.inbound import ProgressCallback, inbound_passes
from peoplesync.workers.outcome import Failed, Gated, Outcome

sync_app = typer.Typer(help="Run synchronisation.", no_args_is_help=True)
console = Console(stderr=True)
EXIT_FAILED = 1  # an error, named on stderr
EXIT_REFUSED = 3  # paused by a person, or the org must be connected again
EXIT_API_LIMIT = 4  # the API budget or the org's allowance is spent


def exit_code(outcome: Outcome) -> int:
    """The shell exit code of a run that ended with ``outcome``."""
    if isinstance(outcome, Gated):
        return EXIT_API_LIMIT if outcome.state == "api_limit_reached" else EXIT_REFUSED
    if isinstance(outcome, Failed):
        return EXIT_FAILED
    return 0


def report_outcome(outcome: Outcome, *, as_json: bool) -> int:
    """Say why a run stopped early (on stderr, and as JSON with --json); its exit code."""
    if isinstance(outcome, Failed):
        console.print(f"[red]error:[/red] {outcome.error}")
    elif isinstance(outcome, Gated):
        console.print(f"[red]{outcome.headline()}:[/red] {outcome.reason}")
        if as_json:
            until = outcome.until.isoformat() if outcome.until else None
            payload = {"state": outcome.state, "reason": outcome.reason, "until": until}
            typer.echo(json.dumps(payload))
    return exit_code(outcome)


def say_trouble(event: Event, *, retrying: str = "") -> None:
    """Tell a loop's retries and change-stream trouble on stderr."""
    if isinstance(event, Retrying):
        console.print(f"[yellow]{event.error}{retrying}[/yellow]")
    elif isinstance(event, StreamTrouble):
        then = "polling continues" if event.gave_up else "retrying"
        console.print(f"[yellow]{event.step} change stream: {event.error}; {then}[/yellow]")


@contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """A transient progress bar per step on stderr, for one pass."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def show(step_name: str, done: int, total: int) -> None:
            if step_name not in tasks:
                tasks[step_name] = bar.add_task(step_name, total=total)
            bar.update(tasks[step_name], completed=done, total=total)

        yield show


@sync_app.command("run")
def run_sync(
    name: str = "default",
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep syncing until stopped: real time (Change Data Capture) with a "
            "reconciliation poll, or polling alone with --no-stream",
        ),
    ] = False,
    stream: Annotated[
        bool,
        typer.Option(
            help="With --follow, receive changes in real time through Change Data Capture"
        ),
    ] = True,
    interval: Annotated[
        float, typer.Option(help="Seconds between polls with --follow when not streaming")
    ] = 60.0,
    reconcile_every: Annotated[
        float | None,
        typer.Option(
            help="Seconds between safety-net polls while the change streams are up "
            "(default: each real-time step's schedule, 15 minutes unless set)"
        ),
    ] = None,
    recheck: Annotated[
        float, typer.Option(help="Seconds between reads of the org's allowance once it is spent")
    ] = RECHECK.total_seconds(),
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Run the profile's enabled steps: Salesforce changes into People (once, or --follow).

    Exits with 3 when the integration is paused or must be connected again, and with 4 when
    the API budget is spent (--follow waits for the allowance instead).
    """
    settings = Settings()

    def heard(event: Event) -> None:
        if not isinstance(event, PassDone):
            say_trouble(event)
        elif as_json:
            typer.echo(json.dumps(event.report))
        else:
            print_summary(event.report)

    async def passes() -> Outcome:
        async with people_store(settings) as store:
            return await inbound_passes(
                settings,
                store,
                status_store(store),
                name,
                follow=follow,
                stream=stream,
                interval=interval,
                reconcile_every=reconcile_every,
                recheck=recheck,
                events=heard,
                progress=None if as_json else progress_bar,
            )

    try:
        outcome = asyncio.run(passes())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        console.print("stopped")
        return
    code = report_outcome(outcome, as_json=as_json)
    if code:
        raise typer.Exit(code)


def print_summary(summary: dict[str, Any]) -> None:
    for step_name, part in summary.items():
        if not isinstance(part, dict):
            continue
        console.print(
            f"{step_name}: read {part['read']}, created {part['created']}, "
            f"updated {part['updated']}, unchanged {part['skipped']}, rejected {part['rejected']}"
        )
    calls = summary["api_calls"]
    console.print(
        f"People now holds {summary['persons']} persons and {summary['companies']} companies "
        f"({calls} Salesforce API calls)"
    )
