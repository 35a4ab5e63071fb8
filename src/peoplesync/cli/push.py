"""CLI: push People changes to Salesforce (the profile's outbound steps)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.cli.sync import EXIT_FAILED, report_outcome, say_trouble
from peoplesync.errors import PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync.outbound.runner import OutboundReport
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.state import RECHECK
from peoplesync.sync_session import connected_client
from peoplesync.wiring import people_store, status_store
from peoplesync.workers.events import Event, PassDone
from peoplesync.workers.outcome import Finished, Idle, Outcome
from peoplesync.workers.push import PushPass, nothing_to_push, preview_push, push_passes

push_app = typer.Typer(help="Push People changes to Salesforce.", no_args_is_help=True)
console = Console(stderr=True)


def _print(report: OutboundReport, calls: int) -> None:
    console.print(
        f"changes {report.changes} ({report.skipped} skipped), persons {report.persons}: "
        f"created {report.created}, linked by email {report.linked}, updated {report.updated}, "
        f"deleted {report.deleted} (links forgotten {report.forgotten}), "
        f"unchanged {report.unchanged}, errors {len(report.errors)} "
        f"({report.retrying} to retry) - {calls} Salesforce API calls"
    )
    for error in report.errors[:20]:
        console.print(f"  [red]{error.code}[/red] {error}")
    for warning in report.duplicates[:20]:
        console.print(f"  [yellow]{warning}[/yellow]")
    for conflict in report.conflicts[:20]:
        console.print(f"  [yellow]conflict[/yellow] {conflict.describe()}")


def _print_preview(summary: dict[str, Any]) -> None:
    console.print(
        f"preview of {summary['changes']} change(s), {summary['persons']} person(s): would "
        f"create {summary['would_create']}, update {summary['would_update']}, delete "
        f"{summary['would_delete']}, link by email {summary['would_link_by_email']}, reject "
        f"{summary['would_reject']}; nothing was written ({summary['api_calls']} lookups)"
    )
    for kind, samples in summary["samples"].items():
        for sample in samples:
            console.print(f"  {kind}: {json.dumps(sample, default=str)}")


@push_app.command("run")
def push_run(
    name: Annotated[str, typer.Option("--name", help="The integration")] = "default",
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep pushing new changes until stopped")
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            help="Most seconds between passes with --follow (a committed People change starts "
            "one sooner: at once on PostgreSQL, in the same process on SQLite)"
        ),
    ] = 2.0,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Retry failed persons now, not at their time")
    ] = False,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Dry run: counts and samples of what would be created, updated, deleted and "
            "rejected; looks records up but writes nothing",
        ),
    ] = False,
    recheck: Annotated[
        float, typer.Option(help="Seconds between reads of the org's allowance once it is spent")
    ] = RECHECK.total_seconds(),
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Push People changes through the profile's enabled outbound steps: new persons become
    Leads, linked Leads and Contacts get the changed fields, deletes follow the step switches
    (once, or --follow).

    Exits with 3 when the integration is paused or must be connected again, and with 4 when
    the API budget is spent (--follow waits for the allowance instead).
    """
    settings = Settings()

    def heard(event: Event) -> None:
        if not isinstance(event, PassDone) or not isinstance(event.report, PushPass):
            say_trouble(event, retrying="; retrying")
        elif as_json:
            typer.echo(
                json.dumps({**event.report.report.summary(), "api_calls": event.report.api_calls})
            )
        else:
            _print(event.report.report, event.report.api_calls)

    async def passes() -> Outcome:
        async with (
            people_store(settings) as store,
            connected_client(settings, store, name) as client,
        ):
            empty = nothing_to_push(await load_profile(store, name), name, preview=preview)
            if empty is not None:
                return empty
            if preview:
                shown = await preview_push(store, client, name)
                if as_json:
                    typer.echo(json.dumps(shown, default=str))
                else:
                    _print_preview(shown)
                return Finished(shown)
            return await push_passes(
                store,
                status_store(store),
                client,
                name,
                follow=follow,
                interval=interval,
                retry_failed=retry_failed,
                recheck=recheck,
                events=heard,
            )

    try:
        outcome = asyncio.run(passes())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        console.print("stopped")
        return
    if isinstance(outcome, Idle):
        console.print(
            "[yellow]the profile has no enabled outbound steps; nothing pushed[/yellow] "
            "(peoplesync steps add --object Lead --direction outbound)"
        )
    code = report_outcome(outcome, as_json=as_json)
    if code:
        raise typer.Exit(code)
