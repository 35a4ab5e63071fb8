"""The peoplesync command line. Commands are thin: they build settings and call async code.
Every command group is registered here, explicitly (importing a CLI module adds nothing)."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Annotated

import typer
from rich.console import Console

from peoplesync import __version__
from peoplesync.cli.inbound_numbers import providers_inbound
from peoplesync.cli.marketing_cloud import marketing_cloud_app
from peoplesync.cli.messages import messages_app
from peoplesync.cli.people import attributes_app, people_app
from peoplesync.cli.providers import providers_app
from peoplesync.cli.push import push_app
from peoplesync.cli.salesforce import salesforce_app
from peoplesync.cli.schedule import schedule_step
from peoplesync.cli.segments import segments_app
from peoplesync.cli.serve import serve, users_app
from peoplesync.cli.status import register_status_commands, status_command
from peoplesync.cli.steps import config_app, steps_app
from peoplesync.cli.sync import progress_bar, sync_app
from peoplesync.cli.transfer import register_transfer_commands
from peoplesync.cli.worker import worker
from peoplesync.errors import PeopleSyncError
from peoplesync.sandbox.marketing_cloud.cli import marketing_cloud_app as sandbox_marketing_cloud
from peoplesync.sandbox.provider.cli import provider as sandbox_provider
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
app.add_typer(segments_app, name="segments")
app.add_typer(sandbox_app, name="sandbox")
sandbox_app.command("provider")(sandbox_provider)
sandbox_app.add_typer(sandbox_marketing_cloud, name="marketing-cloud")
providers_app.command("inbound")(providers_inbound)
app.add_typer(providers_app, name="providers")
app.add_typer(messages_app, name="messages")
app.add_typer(marketing_cloud_app, name="marketing-cloud")
register_status_commands(salesforce_app)
app.add_typer(salesforce_app, name="salesforce")
register_transfer_commands(sync_app)
app.add_typer(sync_app, name="sync")
app.add_typer(push_app, name="push")
app.add_typer(steps_app, name="steps")
steps_app.command("schedule")(schedule_step)
app.add_typer(config_app, name="config")
app.command("status")(status_command)
app.add_typer(users_app, name="users")
app.command("serve")(serve)
app.command("worker")(worker)


def _one_line_summaries(group: typer.Typer) -> None:
    """Give every command of ``group`` (and of its sub-groups) a one-line summary for the
    command lists: the first paragraph of its docstring with the line breaks of the source
    removed (Typer's rich help keeps them, which breaks the list's wrapping)."""
    for command in group.registered_commands:
        text = command.help or (command.callback.__doc__ if command.callback else None)
        if command.short_help is None and text:
            command.short_help = " ".join(inspect.cleandoc(text).split("\n\n")[0].split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _one_line_summaries(sub.typer_instance)


_one_line_summaries(app)


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


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Exit as soon as everything is up")] = False,
    port: Annotated[int, typer.Option(help="Port of the sandbox org (0 picks a free one)")] = 8443,
    web: Annotated[
        bool, typer.Option(help="Serve the People web app and its sync workers (peoplesync serve)")
    ] = True,
    web_port: Annotated[
        int, typer.Option(help="Port of the People web app (0 picks a free one)")
    ] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Run peoplesync on embedded defaults: a seeded Salesforce sandbox org connected to
    People, and the web app with its sync workers (log in with the printed demo login)."""
    from peoplesync.demo import run_demo  # the web app's imports, for this command only

    settings = Settings()
    try:
        info = asyncio.run(
            run_demo(
                settings.data_dir.resolve(),
                port,
                once=once,
                console=console,
                settings=settings,
                web_port=web_port if web else None,
                progress=progress_bar,
            )
        )
    except KeyboardInterrupt:
        return
    except OSError as error:
        console.print(f"[red]error:[/red] {error}. Is port {port} in use? Try --port 0.")
        raise typer.Exit(1) from None
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(info))


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["Settings", "app", "main"]


if __name__ == "__main__":
    main()
