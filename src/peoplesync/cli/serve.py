"""CLI: ``peoplesync serve`` (web app and REST API) and ``peoplesync users`` (accounts, tokens)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.observability.log_format import LogFormat
from peoplesync.settings import Settings
from peoplesync.web.accounts import Accounts, Role, ensure_first_admin
from peoplesync.wiring import services

PASSWORD_ENV = "PEOPLESYNC_USER_PASSWORD"  # noqa: S105 (a variable name)
console = Console(stderr=True)


def _say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


users_app = typer.Typer(
    help="Web and API users: add, list, issue API tokens.", no_args_is_help=True
)
T = TypeVar("T")


def _run(work: Callable[[Accounts], Awaitable[T]]) -> T:
    async def run() -> T:
        async with services(Settings()) as wired:
            return await work(Accounts(wired.engine, wired.clock))

    try:
        return asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


@users_app.command("add")
def add_user(
    email: Annotated[str, typer.Argument(help="Login email")],
    role: Annotated[Role, typer.Option(help="admin (may change) or viewer (read only)")] = (
        Role.VIEWER
    ),
) -> None:
    """Add a user; the password comes from $PEOPLESYNC_USER_PASSWORD or a prompt (after the
    email is checked: not asked for a user that cannot be added)."""
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        _run(lambda accounts: accounts.free_email(email))
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(accounts: Accounts) -> dict[str, str]:
        user = await accounts.add_user(email, password, role)
        return {"id": user.id, "email": user.email, "role": user.role.value}

    typer.echo(json.dumps(_run(work)))


@users_app.command("list")
def list_users(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON array instead of JSON lines")
    ] = False,
) -> None:
    """Every user with their role (JSON lines)."""

    async def work(accounts: Accounts) -> list[dict[str, str]]:
        return [
            {"id": u.id, "email": u.email, "role": u.role.value} for u in await accounts.users()
        ]

    users = _run(work)
    if as_json:
        typer.echo(json.dumps(users))
        return
    for user in users:
        typer.echo(json.dumps(user))


@users_app.command("token")
def issue_token(
    email: Annotated[str, typer.Argument(help="The user the token acts as")],
    name: Annotated[str, typer.Option(help="A label for the token")] = "api",
) -> None:
    """Issue an API token (shown once; send it as 'Authorization: Bearer <token>')."""

    async def work(accounts: Accounts) -> str:
        return await accounts.issue_token(await accounts.user_by_email(email), name)

    typer.echo(_run(work))


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    admin_email: Annotated[
        str, typer.Option(help="Email of the first admin, created when there is no user")
    ] = "admin@example.com",
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies",
            help="Send cookies over plain HTTP too (only behind a trusted network)",
        ),
    ] = False,
    workers: Annotated[
        bool,
        typer.Option(
            help="Run the sync workers (inbound follow and push loops of every integration), "
            "the message sends and every business unit's report write-back in this process"
        ),
    ] = True,
    sync_interval: Annotated[
        float, typer.Option(help="Seconds between the workers' inbound polls")
    ] = 60.0,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text, or json: one JSON object a line with integration and job id",
        ),
    ] = "text",
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log a line for every request (--no-access-log for busy Journey Builder endpoints)"
        ),
    ] = True,
    journey_port: Annotated[
        int | None,
        typer.Option(
            help="Also answer Journey Builder (/journey/... only) on this port, in "
            "--journey-processes processes of their own (point Journey Builder there)"
        ),
    ] = None,
    journey_processes: Annotated[
        int, typer.Option(help="How many processes serve --journey-port", min=1, max=64)
    ] = 2,
    journey_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    journey_parent: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Serve the web app, the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and, unless
    --no-workers, the sync workers of every connected integration, the message sends and the
    report write-back of every Marketing Cloud business unit."""
    settings = Settings()
    if log_format not in ("text", "json"):
        console.print(f"[red]error:[/red] --log-format is text or json, not {log_format!r}")
        raise typer.Exit(2)
    chosen: LogFormat = "json" if log_format == "json" else "text"
    # The web server is imported here, not at the top: every other command starts without it.
    from peoplesync.web.server import (
        address_of,
        listen,
        serve_web,
        spawn_journey_processes,
        stop_processes,
    )

    if journey_fd is not None:  # one of the processes --journey-processes started
        _serve_journey_only(settings, journey_fd, journey_parent, access_log)
        return
    options = ["--log-format", chosen, "--access-log" if access_log else "--no-access-log"]

    async def run() -> None:
        async with services(settings) as wired:
            password = await ensure_first_admin(Accounts(wired.engine, wired.clock), admin_email)
            if password is not None:
                console.print(
                    f"First admin created: [bold]{admin_email}[/bold] with one-time password "
                    f"[bold]{password}[/bold] (you choose your own at the first login)."
                )
            listener = listen(host, port)
            helpers = []
            if journey_port is not None:
                journey = listen(host, journey_port)
                helpers = spawn_journey_processes(journey, journey_processes, options)
                _say(
                    f"Journey Builder calls are answered on {address_of(journey)}/journey/ "
                    f"by {journey_processes} processes"
                )
                journey.close()  # theirs now
            try:
                await serve_web(
                    wired,
                    listener,
                    workers=workers,
                    secure_cookies=not insecure_cookies,
                    sync_interval=sync_interval,
                    say=_say,
                    log_format=chosen,
                    access_log=access_log,
                )
            finally:
                await asyncio.to_thread(stop_processes, helpers)

    _served(run())


def _serve_journey_only(settings: Settings, fd: int, parent: int | None, access_log: bool) -> None:
    from peoplesync.web.server import inherited, serve_journey

    async def run() -> None:
        async with services(settings) as wired:
            await serve_journey(wired, inherited(fd), access_log=access_log, parent=parent)

    _served(run())


def _served(main: Coroutine[Any, Any, None]) -> None:
    """Serve until ``main`` ends; an error is printed (exit 1), Ctrl+C ends quietly."""
    from peoplesync.web.server import run_served

    try:
        run_served(main)
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        return


__all__ = ["serve", "users_app"]
