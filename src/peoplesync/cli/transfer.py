"""CLI: bulk transfers with their own filters, dry-run previews, and resyncs."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from peoplesync.cli.sync import (
    EXIT_FAILED,
    console,
    print_summary,
    progress_bar,
    report_outcome,
)
from peoplesync.errors import PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.wiring import people_store, status_store
from peoplesync.workers.outcome import Finished, Gated, Outcome
from peoplesync.workers.transfer import run_transfer

StepOption = Annotated[
    list[str] | None,
    typer.Option("--step", help="Step to include (repeatable; default: every enabled step)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


def transfer(
    name: str = "default",
    step: StepOption = None,
    where: Annotated[
        str | None, typer.Option("--filter", help="SOQL condition (the part after WHERE)")
    ] = None,
    modified_within_days: Annotated[
        int | None, typer.Option(help="Only records modified in the last N days")
    ] = None,
    lead_status: Annotated[
        list[str] | None, typer.Option(help="Only leads with this Status (repeatable)")
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Count and show what would be created, updated, rejected; write nothing",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Transfer every record matching the steps' filters and these, from the beginning.

    The continuous sync's position is not touched; an interrupted transfer resumes when the
    same command runs again.
    """
    options = {
        "condition": where,
        "modified_within_days": modified_within_days,
        "lead_statuses": tuple(lead_status or ()),
    }
    _run(name, step, options, preview=preview, force=False, as_json=as_json)


def resync(
    name: str = "default",
    step: StepOption = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Show what a resync would change; write nothing")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read every record again and apply all mapped fields, even unchanged ones (for
    example after editing People by hand or changing a mapping)."""
    _run(name, step, {}, preview=preview, force=True, as_json=as_json)


def _run(
    name: str,
    steps: list[str] | None,
    options: dict[str, Any],
    *,
    preview: bool,
    force: bool,
    as_json: bool,
) -> None:
    settings = Settings()

    async def run() -> Outcome:
        async with people_store(settings) as store:
            return await run_transfer(
                settings,
                store,
                status_store(store),
                name,
                steps,
                options,
                preview=preview,
                force=force,
                progress=None if as_json else progress_bar,
            )

    try:
        outcome = asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    if isinstance(outcome, Finished):
        summary = outcome.report
        if as_json:
            typer.echo(json.dumps(summary, default=str))
        else:
            print_summary(summary)
            if preview:
                _print_samples(summary)
        return
    if isinstance(outcome, Gated) and as_json:
        typer.echo(json.dumps({"state": outcome.state, "reason": outcome.reason}, default=str))
    code = report_outcome(outcome, as_json=False)
    if code:
        raise typer.Exit(code)


def _print_samples(summary: dict[str, Any]) -> None:
    console.print("[bold]Preview only: nothing was written.[/bold]")
    for step_name, part in summary.items():
        if not isinstance(part, dict):
            continue
        for outcome, samples in part.get("samples", {}).items():
            for sample in samples:
                values = ", ".join(f"{k}={v}" for k, v in sample.items() if k != "record")
                console.print(f"  {step_name} {outcome}: {sample['record']} {values}")


def register_transfer_commands(sync: typer.Typer) -> None:
    """Add ``transfer`` and ``resync`` to the ``sync`` commands."""
    sync.command("transfer")(transfer)
    sync.command("resync")(resync)
