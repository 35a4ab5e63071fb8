"""The peoplesync command line. Commands are thin: they build settings and call async code."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from peoplesync import __version__
from peoplesync.people_cli import attributes_app, people_app
from peoplesync.sandbox.salesforce.cli import sandbox_app
from peoplesync.settings import Settings

app = typer.Typer(
    name="peoplesync",
    help="Self-hosted audience hub: People in two-way sync with Salesforce.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
app.add_typer(people_app, name="people")
app.add_typer(attributes_app, name="attributes")
app.add_typer(sandbox_app, name="sandbox")


@app.callback()
def _root() -> None:
    """Self-hosted audience hub: People in two-way sync with Salesforce."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


@app.command()
def version(as_json: JsonOption = False) -> None:
    """Print the peoplesync version."""
    if as_json:
        typer.echo(json.dumps({"version": __version__}))
    else:
        typer.echo(f"peoplesync {__version__}")


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["Settings", "app", "main"]
