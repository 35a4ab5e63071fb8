"""CLI commands for the People store: attributes, import and export of persons."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import Progress

from peoplesync.errors import ConfigurationError, PeopleSyncError, RecordError
from peoplesync.people import tables as t
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.attribute_change import add_attribute, describe, edit_attribute
from peoplesync.people.model import PersonInput
from peoplesync.people.row_tally import RowTally
from peoplesync.settings import Settings
from peoplesync.wiring import services

people_app = typer.Typer(help="Persons in the People store.", no_args_is_help=True)
attributes_app = typer.Typer(help="Custom attribute definitions.", no_args_is_help=True)
console = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


def _fail(error: PeopleSyncError) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


ConfirmOption = Annotated[
    bool,
    typer.Option(
        "--confirm", help="Make it mandatory even though existing persons have no value for it"
    ),
]


def _summary(definition: AttributeDefinition) -> str:
    return f"attribute {definition.name} ({describe(definition)})"


@attributes_app.command("add")
def add_attribute_command(
    name: str,
    kind: Annotated[AttributeType, typer.Option("--type", help="Value type")] = AttributeType.TEXT,
    mandatory: Annotated[
        bool, typer.Option("--mandatory", help="Every person must have it")
    ] = False,
    description: str = "",
    confirm: ConfirmOption = False,
) -> None:
    """Define a new custom attribute (an existing one is changed with `attributes edit`)."""

    async def run() -> AttributeDefinition:
        async with services(Settings()) as wired:
            store = wired.people
            return await add_attribute(
                store,
                AttributeDefinition(name, kind, mandatory, description),
                origin="cli",
                confirm=confirm,
            )

    try:
        saved = asyncio.run(run())
    except PeopleSyncError as error:
        raise _fail(error) from None
    console.print(f"{_summary(saved)} added")


@attributes_app.command("edit")
def edit_attribute_command(
    name: str,
    kind: Annotated[
        AttributeType | None, typer.Option("--type", help="New value type (no values yet)")
    ] = None,
    mandatory: Annotated[
        bool | None,
        typer.Option("--mandatory/--optional", help="Whether every person must have it"),
    ] = None,
    description: Annotated[str | None, typer.Option(help="New description")] = None,
    confirm: ConfirmOption = False,
) -> None:
    """Change a custom attribute's type, mandatory flag or description."""

    async def run() -> AttributeDefinition:
        async with services(Settings()) as wired:
            store = wired.people
            return await edit_attribute(
                store,
                name,
                origin="cli",
                kind=kind,
                mandatory=mandatory,
                description=description,
                confirm=confirm,
            )

    try:
        saved = asyncio.run(run())
    except PeopleSyncError as error:
        raise _fail(error) from None
    console.print(f"{_summary(saved)} saved")


@attributes_app.command("list")
def list_attributes(as_json: JsonOption = False) -> None:
    """List custom attributes."""

    async def run() -> dict[str, AttributeDefinition]:
        async with services(Settings()) as wired:
            store = wired.people
            return await store.attributes()

    found = asyncio.run(run())
    rows = [
        {
            "name": d.name,
            "type": d.type.value,
            "mandatory": d.mandatory,
            "description": d.description,
        }
        for d in found.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(f"{row['name']:30} {row['type']:9} {'mandatory' if row['mandatory'] else ''}")


def _open(path: Path, mode: Literal["rb", "w"]) -> IO[Any]:
    """``path`` opened (bytes to read, UTF-8 text to write), or ConfigurationError naming it
    and the reason."""
    try:
        return path.open("rb") if mode == "rb" else path.open("w", encoding="utf-8")
    except OSError as error:
        verb = "read" if mode == "rb" else "write"
        raise ConfigurationError(
            f"cannot {verb} {path}: {error.strerror or error}", hint="check the path"
        ) from None


def _read_jsonl(handle: IO[bytes], errors: list[RecordError]) -> Iterator[PersonInput]:
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(RecordError("not UTF-8 text", record=f"line {number}"))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RecordError(f"not valid JSON ({exc.msg})", record=f"line {number}"))
            continue
        if not isinstance(record, dict):
            errors.append(RecordError("expected a JSON object", record=f"line {number}"))
            continue
        emails = record.pop("emails", None)
        phones = record.pop("phones", None)
        if "email" in record:
            emails = [record.pop("email"), *list(emails or [])]
        if "phone" in record:
            phones = [record.pop("phone"), *list(phones or [])]
        person_id = record.pop("id", None)
        yield PersonInput(
            values=record, emails=emails, phones=phones, id=person_id, key=f"line {number}"
        )


@people_app.command("import")
def import_people(
    path: Annotated[Path, typer.Argument(help="JSON Lines file, one person per line")],
    as_json: JsonOption = False,
) -> None:
    """Create or update persons from JSON Lines; bad lines are reported, the rest are saved.
    Every line is counted once: a line for the same person as an earlier line (same email or
    id) is merged into that person and reported as such."""

    try:
        handle = sys.stdin.buffer if str(path) == "-" else _open(path, "rb")
    except PeopleSyncError as error:
        raise _fail(error) from None

    async def run() -> dict[str, Any]:
        unreadable: list[RecordError] = []
        read: list[PersonInput] = []  # what the tally needs of each line (values left out)

        def remembered() -> Iterator[PersonInput]:
            for item in _read_jsonl(handle, unreadable):
                read.append(PersonInput(emails=item.emails, id=item.id, key=item.key))
                yield item

        async with services(Settings()) as wired:
            store = wired.people
            result = await store.upsert_persons(remembered(), origin="import", reject_invalid=True)
        tally = RowTally()
        tally.add(read, result)
        result.rejected = unreadable + result.rejected
        tally.rejected += len(unreadable)
        return {
            "lines": tally.rows,
            "created": tally.created,
            "updated": tally.updated,
            "unchanged": tally.unchanged,
            "merged": [
                {
                    "record": m.record,
                    "duplicate_of": m.duplicate_of,
                    "field": m.field,
                    "message": m.message,
                }
                for m in tally.merged
            ],
            "rejected": [
                {"record": e.record, "field": e.field, "code": e.code, "error": str(e)}
                for e in result.rejected
            ],
        }

    try:
        summary = asyncio.run(run())
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        console.print(
            f"{summary['lines']} line(s): created {summary['created']}, "
            f"updated {summary['updated']}, unchanged {summary['unchanged']}, "
            f"merged {len(summary['merged'])}, rejected {len(summary['rejected'])}"
        )
        for merged in summary["merged"][:20]:
            console.print(f"  {merged['record']}: {merged['message']}")
        for rejected in summary["rejected"][:20]:
            console.print(f"  [yellow]{rejected['error']}[/yellow]")
    if summary["rejected"]:
        raise typer.Exit(code=2)


@people_app.command("export")
def export_people(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write (- for stdout)")
    ] = Path("-"),
) -> None:
    """Write every person as JSON Lines, with a progress bar on stderr."""

    try:  # before the store opens: a wrong path is told at once, not as a traceback
        handle = sys.stdout if str(output) == "-" else _open(output, "w")
    except PeopleSyncError as error:
        raise _fail(error) from None

    async def run() -> int:
        written = 0
        async with services(Settings()) as wired:
            store = wired.people
            total = await store.count_persons()
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("exporting", total=total)
                after = ""
                while True:
                    async with wired.engine.connect() as conn:
                        ids = list(
                            (
                                await conn.execute(
                                    sa.select(t.persons.c.id)
                                    .where(t.persons.c.id > after)
                                    .order_by(t.persons.c.id)
                                    .limit(2000)
                                )
                            ).scalars()
                        )
                    if not ids:
                        break
                    persons = await store.get_persons(ids)
                    for person_id in ids:
                        person = persons[person_id]
                        record = {
                            "id": person.id,
                            "emails": list(person.emails),
                            "phones": list(person.phones),
                        }
                        record.update(
                            {k: _plain(v) for k, v in person.standard.items() if v is not None}
                        )
                        record.update({k: _plain(v) for k, v in person.attributes.items()})
                        if person.company_id:
                            record["company_id"] = person.company_id
                        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                        written += 1
                    after = ids[-1]
                    progress.update(task, advance=len(ids))
        return written

    try:
        count = asyncio.run(run())
    finally:
        if handle is not sys.stdout:
            handle.close()
    console.print(f"exported {count} person(s)")


@people_app.command("count")
def count_people(as_json: JsonOption = False) -> None:
    """How many persons the store holds."""

    async def run() -> int:
        async with services(Settings()) as wired:
            store = wired.people
            return await store.count_persons()

    total = asyncio.run(run())
    typer.echo(json.dumps({"persons": total}) if as_json else str(total))
