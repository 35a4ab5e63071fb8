"""CLI: an integration's sync steps (list, add, clone, remove, switches, filters, mappings)
and its whole profile as a YAML file (``config export`` / ``config import``).

Every change is checked before it is saved: against People's attributes always, and against
the org (describe for mapping fields, a ``LIMIT 1`` query for filters) unless ``--offline``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync.connection import not_connected_note, review_hint
from peoplesync.sync.mapping import ConflictRule, Direction, Mode
from peoplesync.sync.profile.format import profile_from_yaml, profile_to_yaml
from peoplesync.sync.profile.model import Profile, ProfileError, Step
from peoplesync.sync.profile.step_edits import (
    added_step,
    change_step,
    changed_filter,
    edit_profile,
    map_line,
    mapping_line,
    save_checked,
    step_row,
    unmapped_hint,
)
from peoplesync.sync.profile.store import SaveResult, load_profile
from peoplesync.wiring import services

steps_app = typer.Typer(help="Sync steps of an integration's profile.", no_args_is_help=True)
config_app = typer.Typer(help="The sync profile as a YAML file.", no_args_is_help=True)
console = Console(stderr=True)

NameOption = Annotated[str, typer.Option("--name", help="Integration name")]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline", help="Check against People only, not against the org (no connection needed)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
StepArgument = Annotated[str, typer.Argument(help="Step name (see `peoplesync steps list`)")]
T = TypeVar("T")


def _fail(error: PeopleSyncError) -> typer.Exit:
    if isinstance(error, ProfileError):
        console.print(f"[red]error:[/red] {len(error.problems)} problem(s); nothing was saved:")
        for problem in error.problems:
            console.print(f"  {problem}")
    else:
        console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


def _run_saving(work: Callable[[], T], offline: bool) -> T:
    """Run a saving command; a missing integration suggests ``--offline``."""
    try:
        return work()
    except ConfigurationError as error:
        if offline or "no Salesforce integration" not in error.message:
            raise _fail(error) from None
        raise _fail(
            ConfigurationError(
                error.message,
                hint=f"{error.hint}; or pass --offline to check against People only",
            )
        ) from None
    except PeopleSyncError as error:
        raise _fail(error) from None


def _edit(name: str, offline: bool, change: Callable[[Profile], Profile], done: str) -> Profile:
    """Load the profile, change it, check and save it; report resyncs."""

    async def run() -> tuple[Profile, SaveResult, str | None]:
        async with services(Settings()) as wired:
            opener = None if offline else wired.open_org
            edited = await edit_profile(wired.people, opener, name, change)
            return (*edited, await not_connected_note(wired.people, name))

    profile, result, note = _run_saving(lambda: asyncio.run(run()), offline)
    console.print(done)
    if note:
        console.print(f"[yellow]note:[/yellow] {note}")
    _report(result)
    return profile


def _report(result: SaveResult) -> None:
    for step_name, why in result.resync.items():
        console.print(
            f"step {step_name!r}: {why}; the next `peoplesync sync run` re-reads all its records"
        )
    for step_name, why in result.repush.items():
        console.print(
            f"step {step_name!r}: {why}; the next `peoplesync push run` writes the changed "
            "fields of its linked persons"
        )


def _load(name: str) -> Profile:
    async def run() -> Profile:
        async with services(Settings()) as wired:
            store = wired.people
            return await load_profile(store, name)

    try:
        return asyncio.run(run())
    except PeopleSyncError as error:
        raise _fail(error) from None


@steps_app.command("list")
def list_steps(name: NameOption = "default", as_json: JsonOption = False) -> None:
    """List the steps in the order they run, with switches and filters."""
    profile = _load(name)
    rows = [step_row(step) for step in profile.steps]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        switches = ",".join(s for s in ("create", "update", "delete") if row[s]) or "-"
        state = "enabled" if row["enabled"] else "disabled"
        if row.get("awaiting_review"):
            state = "off until reviewed"
        typer.echo(
            f"{row['name']:20} {row['sobject'] + ' -> ' + row['target']:24} {row['direction']:8} "
            f"{state:18} {switches:20} {len(row['mapping']):3} fields  "
            f"{row['condition'] or '(all records)'}"
        )
    held = profile.awaiting_review()
    if held:
        console.print(
            f"Outbound steps off until reviewed write nothing to Salesforce: "
            f"{review_hint(name, held)}.",
            soft_wrap=True,
        )


@steps_app.command("add")
def add_step(
    sobject: Annotated[
        str | None, typer.Option("--object", help="Salesforce object, e.g. Lead or Score__c")
    ] = None,
    clone: Annotated[str | None, typer.Option(help="Copy this step's settings")] = None,
    step_name: Annotated[
        str | None,
        typer.Option(help="Name of the new step (default: the object's name, or Person to OBJECT)"),
    ] = None,
    direction: Annotated[
        Direction,
        typer.Option(help="inbound (Salesforce -> People) or outbound (People -> Salesforce)"),
    ] = Direction.INBOUND,
    name: NameOption = "default",
    offline: OfflineOption = False,
) -> None:
    """Add a step: a copy of another (--clone), or a new one with the object's shipped mapping.

    An object without a shipped mapping gets a disabled step: map fields, then enable it.
    An outbound step (Person -> Lead or Contact) starts with deletes off.
    """
    created: list[Step] = []

    def change(profile: Profile) -> Profile:
        created.append(
            added_step(profile, sobject=sobject, clone=clone, name=step_name, direction=direction)
        )
        return profile.add(created[-1])

    _edit(name, offline, change, "step added")
    hint = unmapped_hint(created[0])
    if hint:
        console.print(hint)


@steps_app.command("remove")
def remove_step(step: StepArgument, name: NameOption = "default") -> None:
    """Remove a step (People keeps what it brought)."""
    _edit(name, True, lambda profile: profile.remove(step), f"step {step!r} removed")


@steps_app.command("enable")
def enable_step(
    steps: Annotated[list[str], typer.Argument(help="Step name(s) (see `peoplesync steps list`)")],
    name: NameOption = "default",
    offline: OfflineOption = False,
) -> None:
    """Run steps again from where they stopped; outbound steps of a new integration start
    writing to Salesforce (review them first: `peoplesync push run --preview`)."""

    def change(profile: Profile) -> Profile:
        for step in steps:
            profile = profile.set_enabled(step, True)
        return profile

    shown = ", ".join(repr(step) for step in steps)
    _edit(name, offline, change, f"step{'s' if len(steps) > 1 else ''} {shown} enabled")


@steps_app.command("disable")
def disable_step(step: StepArgument, name: NameOption = "default") -> None:
    """Stop running a step (its cursor is kept)."""
    _edit(name, True, lambda p: p.set_enabled(step, False), f"step {step!r} disabled")


@steps_app.command("set")
def set_step(
    step: StepArgument,
    create: Annotated[
        bool | None, typer.Option("--create/--no-create", help="Create persons for new records")
    ] = None,
    update: Annotated[
        bool | None, typer.Option("--update/--no-update", help="Update linked persons")
    ] = None,
    delete: Annotated[
        bool | None,
        typer.Option(
            "--delete/--no-delete",
            help="Inbound: delete a person with its last deleted record; outbound: delete "
            "the linked record of a person deleted in People",
        ),
    ] = None,
    condition: Annotated[
        str | None,
        typer.Option("--filter", help='SOQL condition after WHERE; "" removes it'),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--modified-within-days", help="Only records modified in N days; 0 removes"),
    ] = None,
    statuses: Annotated[
        list[str] | None,
        typer.Option("--lead-status", help="Only Leads with this status (repeat for more)"),
    ] = None,
    clear_statuses: Annotated[
        bool, typer.Option("--clear-lead-statuses", help="Remove the Lead Status filter")
    ] = False,
    segment: Annotated[
        str | None,
        typer.Option("--segment", help='Outbound: push only this People segment; "" removes'),
    ] = None,
    name: NameOption = "default",
    offline: OfflineOption = False,
) -> None:
    """Change a step's create / update / delete switches and its filter."""

    def change(profile: Profile) -> Profile:
        new = changed_filter(
            profile.step(step).filter,
            condition=condition,
            days=days,
            statuses=statuses,
            clear_statuses=clear_statuses,
        )
        return change_step(
            profile,
            step,
            create=create,
            update=update,
            delete=delete,
            step_filter=new,
            segment=segment,
        )

    _edit(name, offline, change, f"step {step!r} saved")


@steps_app.command("map")
def map_field(
    step: StepArgument,
    salesforce_field: Annotated[
        str, typer.Option("--field", help="Salesforce field, e.g. Email or Account.Name")
    ],
    attribute: Annotated[
        str,
        typer.Option(
            help="People attribute (standard, custom, emails or phones); a company step maps a "
            "company field (name, website_domain, industry, employees, revenue, country, owner)"
        ),
    ],
    mode: Annotated[Mode, typer.Option(help="overwrite, fill (only empty) or dont_sync")] = (
        Mode.OVERWRITE
    ),
    on: Annotated[str, typer.Option(help="Apply when a person is: create, update or both")] = (
        "both"
    ),
    direction: Annotated[
        Direction | None,
        typer.Option(help="inbound, outbound or both (two-way; default: the step's direction)"),
    ] = None,
    conflict: Annotated[
        ConflictRule | None,
        typer.Option(
            help="Who wins when both sides changed a two-way field: salesforce_wins, "
            "people_wins or most_recent; set on the field in every step of the object "
            "(default: the field's rule, else most_recent)"
        ),
    ] = None,
    name: NameOption = "default",
    offline: OfflineOption = False,
) -> None:
    """Map a Salesforce field to a People attribute (replaces the field's line if mapped)."""
    also: list[str] = []

    def change(profile: Profile) -> Profile:
        line = mapping_line(
            profile,
            step,
            salesforce_field,
            attribute,
            mode=mode,
            on=on,
            direction=direction,
            conflict=conflict,
        )
        profile, changed = map_line(profile, step, line, conflict_everywhere=conflict is not None)
        also.extend(changed)
        return profile

    _edit(name, offline, change, f"step {step!r}: {salesforce_field} -> {attribute} saved")
    for other in also:
        console.print(f"step {other!r}: {salesforce_field} now settles conflicts by {conflict}")


@steps_app.command("unmap")
def unmap_field(
    step: StepArgument,
    salesforce_field: Annotated[str, typer.Option("--field", help="Salesforce field to unmap")],
    name: NameOption = "default",
    offline: OfflineOption = False,
) -> None:
    """Remove a Salesforce field's mapping line from a step."""
    _edit(
        name,
        offline,
        lambda p: p.remove_line(step, salesforce_field),
        f"step {step!r}: {salesforce_field} unmapped",
    )


@config_app.command("export")
def export_config(
    name: NameOption = "default",
    file: Annotated[Path | None, typer.Option(help="Write here instead of to stdout")] = None,
) -> None:
    """Write the profile (the default one when none is saved) as YAML."""
    text = profile_to_yaml(_load(name), name)
    if file is None:
        typer.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    console.print(f"profile of {name!r} written to {file}")


@config_app.command("import")
def import_config(
    file: Annotated[Path, typer.Argument(help="A YAML file from `peoplesync config export`")],
    name: NameOption = "default",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and say what would change")
    ] = False,
    offline: OfflineOption = False,
) -> None:
    """Replace the profile with a YAML file; every step is checked before anything is saved."""
    settings = Settings()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(
            ConfigurationError(f"cannot read {file}: {error.strerror}", hint="check the path")
        ) from None

    async def run() -> SaveResult:
        async with services(settings) as wired:
            store = wired.people
            opener = None if offline else wired.open_org
            return await save_checked(store, opener, profile, name, dry_run=dry_run)

    try:
        profile = profile_from_yaml(text)
    except PeopleSyncError as error:
        raise _fail(error) from None
    result = _run_saving(lambda: asyncio.run(run()), offline)
    steps = ", ".join(profile.names()) or "(none)"
    if dry_run:
        console.print(f"{file} is valid ({steps}); nothing was saved (--dry-run)", soft_wrap=True)
    else:
        console.print(f"profile of {name!r} replaced: {steps}", soft_wrap=True)
    _report(result)
