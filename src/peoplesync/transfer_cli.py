"""CLI: bulk transfers with their own filters, dry-run previews, and resyncs."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync.status_recorder import StatusRecorder
from peoplesync.sync.transfer import finish, transfer_condition, transfer_runner
from peoplesync.sync.transfer_filter import (
    check_transfer_filter,
    filter_targets,
    lead_status_error,
)
from peoplesync.sync_cli import (
    EXIT_API_LIMIT,
    EXIT_REFUSED,
    console,
    pass_with_progress,
    print_summary,
    sync_app,
)
from peoplesync.sync_session import inbound_pass, profile_runners
from peoplesync.wiring import services

StepOption = Annotated[
    list[str] | None,
    typer.Option("--step", help="Step to include (repeatable; default: every enabled step)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


@sync_app.command("transfer")
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


@sync_app.command("resync")
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

    async def run() -> tuple[int, dict[str, Any]]:
        async with services(settings) as wired, wired.org_client(name) as client:
            store = wired.people
            runners = profile_runners(client, store, await wired.profile(name), name)
            unknown = sorted(set(steps or ()) - set(runners))
            if unknown:
                raise ConfigurationError(
                    f"no enabled step named {', '.join(unknown)}",
                    hint=f"enabled steps: {', '.join(runners)} (see peoplesync steps list)",
                )
            every = filter_targets(runners)
            picked = [t for t in every if not steps or t.step in steps]
            wrong_status = lead_status_error(options.get("lead_statuses", ()), picked)
            if wrong_status is not None:
                raise wrong_status
            if options.get("condition"):
                await check_transfer_filter(client, options["condition"], picked, every)
            chosen = {
                step_name: transfer_runner(
                    runner,
                    transfer_condition(runner, **options),
                    preview=preview,
                    force=force,
                )
                for step_name, runner in runners.items()
                if not steps or step_name in steps
            }
            recorder = None
            if not preview:
                recorder = StatusRecorder(wired.statuses, name, client, wired.clock)
                await recorder.install_budget()
                decision = await recorder.gate()
                if decision.action == "refuse":
                    return EXIT_REFUSED, {"state": "refused", "reason": decision.reason}
                if decision.action == "wait":
                    return EXIT_API_LIMIT, {"state": "api_limit_reached", "reason": decision.reason}
            kind = "resync" if force else "transfer"
            if as_json:
                summary = await inbound_pass(
                    client, store, chosen, None, recorder, transfer=kind, started_by="sync transfer"
                )
            else:
                summary = await pass_with_progress(
                    client, store, chosen, recorder, transfer=kind, started_by="sync transfer"
                )
            for runner in chosen.values():
                await finish(runner)
            if recorder is not None:
                await recorder.flush()
            summary["preview"] = preview
            return 0, summary

    try:
        code, summary = asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(summary, default=str))
    elif code:
        console.print(f"[red]{summary['state']}:[/red] {summary['reason']}")
    else:
        print_summary(summary)
        if preview:
            _print_samples(summary)
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
