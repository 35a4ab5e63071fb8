"""CLI: ``peoplesync steps schedule NAME``: when a step runs (registered in ``cli``)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.cli.steps import JsonOption, NameOption, StepArgument, _fail
from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync.profile.schedule import Schedule, parse_every, parse_time
from peoplesync.sync.profile.schedule_edits import set_schedule
from peoplesync.sync.profile.schedule_plan import schedule_of
from peoplesync.wiring import people_store

console = Console(stderr=True)


def schedule_data(
    every: str | None,
    hourly: int | None,
    daily: str | None,
    timezone: str,
    realtime: bool,
    poll: int | None,
    manual: bool,
    default: bool,
) -> dict[str, Any] | None:
    """The schedule the options ask for as plain data (None: back to the default); exactly
    one option is allowed."""
    chosen = [
        flag
        for flag, given in (
            ("--every", every is not None),
            ("--hourly", hourly is not None),
            ("--daily", daily is not None),
            ("--realtime", realtime),
            ("--manual", manual),
            ("--default", default),
        )
        if given
    ]
    if len(chosen) != 1:
        raise ConfigurationError(
            f"give exactly one schedule option, not {', '.join(chosen) or 'none'}",
            hint="--every 15m, --hourly 6, --daily 06:30, --realtime, --manual or --default",
        )
    if every is not None:
        parsed = parse_every(every)
        if parsed is None:
            raise ConfigurationError(
                f"--every {every!r} is not minutes or hours", hint="e.g. --every 15m or 2h"
            )
        return parsed.to_dict()
    if hourly is not None:
        return Schedule.hours(hourly).to_dict()
    if daily is not None:
        at = parse_time(daily)
        return {
            "kind": "daily",
            "at": daily if at is None else at.strftime("%H:%M"),
            **({"timezone": timezone} if timezone != "UTC" else {}),
        }
    if realtime:
        return {"kind": "realtime", **({"every": poll} if poll is not None else {})}
    return Schedule.manual().to_dict() if manual else None


def schedule_step(
    step: StepArgument,
    every: Annotated[str | None, typer.Option(help="Every N minutes or hours: 15m, 2h")] = None,
    hourly: Annotated[int | None, typer.Option(help="Every N hours")] = None,
    daily: Annotated[str | None, typer.Option(help="Daily at HH:MM (see --timezone)")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of --daily (IANA name)")] = "UTC",
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Change streams plus a reconciliation poll")
    ] = False,
    poll: Annotated[
        int | None, typer.Option(help="With --realtime: minutes between reconciliation polls")
    ] = None,
    manual: Annotated[
        bool, typer.Option("--manual", help="Only when asked (sync run / push run)")
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", help="Back to the default (real time)")
    ] = False,
    name: NameOption = "default",
    as_json: JsonOption = False,
) -> None:
    """Set when a step runs. Outbound steps share one push schedule. Running workers pick
    the change up at their next cycle; no restart needed."""

    async def run() -> tuple[str, list[str]]:
        data = schedule_data(every, hourly, daily, timezone, realtime, poll, manual, default)
        async with people_store(Settings()) as store:
            profile, changed = await set_schedule(store, name, step, data)
        return schedule_of(profile.step(step)).describe(), changed

    try:
        described, changed = asyncio.run(run())
    except PeopleSyncError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps({"step": step, "schedule": described, "changed": changed}))
        return
    others = [c for c in changed if c != step]
    also = f" (and {', '.join(others)}: outbound steps share the push schedule)" if others else ""
    console.print(f"step {step!r} runs {described}{also}")


__all__ = ["schedule_data", "schedule_step"]
