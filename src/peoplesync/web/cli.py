"""CLI: ``peoplesync serve`` (web app and REST API) and ``peoplesync users`` (accounts, tokens)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.sync_workers import SyncWorkers
from peoplesync.web.accounts import Accounts, Role, ensure_first_admin
from peoplesync.web.app import create_app
from peoplesync.web.messaging_hooks import RedactTokens
from peoplesync.web.salesforce_connect import Connector
from peoplesync.wiring import Services, services

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
    """Add a user; the password comes from $PEOPLESYNC_USER_PASSWORD or a prompt."""
    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )

    async def work(accounts: Accounts) -> dict[str, str]:
        user = await accounts.add_user(email, password, role)
        return {"id": user.id, "email": user.email, "role": user.role.value}

    typer.echo(json.dumps(_run(work)))


@users_app.command("list")
def list_users() -> None:
    """Every user with their role (JSON lines)."""

    async def work(accounts: Accounts) -> list[str]:
        return [
            json.dumps({"id": u.id, "email": u.email, "role": u.role.value})
            for u in await accounts.users()
        ]

    for line in _run(work):
        typer.echo(line)


@users_app.command("token")
def issue_token(
    email: Annotated[str, typer.Argument(help="The user the token acts as")],
    name: Annotated[str, typer.Option(help="A label for the token")] = "api",
) -> None:
    """Issue an API token (shown once; send it as 'Authorization: Bearer <token>')."""

    async def work(accounts: Accounts) -> str:
        return await accounts.issue_token(await accounts.user_by_email(email), name)

    typer.echo(_run(work))


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one); its address is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a response written as headers and then
    # body waits on the client's delayed ACK: about 40 ms a request on a kept-alive connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({error.strerror})",
            hint="choose another --port (0 picks a free one)",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def address_of(sock: socket.socket) -> str:
    """The http:// address a listening socket serves."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def serve_web(
    services: Services,
    listener: socket.socket,
    *,
    workers: bool = True,
    secure_cookies: bool = True,
    sync_interval: float = 60.0,
    say: Callable[[str], object] = _say,
    log_level: str | None = None,
) -> None:
    """Serve the web app and REST API on ``listener`` until a signal stops the server, with
    the sync workers of every integration beside it (stopped before it returns)."""
    settings = services.settings
    running = (
        SyncWorkers(settings, services.people, say=say, sync_interval=sync_interval)
        if workers
        else None
    )
    connector = Connector(
        services.box,
        services.clock,
        on_connected=running.connected if running else None,
        running=running.running if running else None,
    )
    app = create_app(services, secure_cookies=secure_cookies, connector=connector)
    if running is not None:
        app.router.lifespan_context = running.running_beside
    level = (log_level or settings.log_level).lower()
    config = uvicorn.Config(app, log_level=level, access_log=log_level is None, lifespan="on")
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())  # report receivers' tokens
    with_workers = " with sync workers" if running else " (no sync workers)"
    say(f"peoplesync is serving on {address_of(listener)}/{with_workers}")
    watcher = asyncio.create_task(app.state.transfers.watch())  # resumes interrupted
    try:
        await uvicorn.Server(config).serve(sockets=[listener])
    finally:
        watcher.cancel()
        await app.state.transfers.stop()


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
            help="Run the sync workers (inbound follow and push loops of every integration) "
            "in this process"
        ),
    ] = True,
    sync_interval: Annotated[
        float, typer.Option(help="Seconds between the workers' inbound polls")
    ] = 60.0,
) -> None:
    """Serve the web app, the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and, unless
    --no-workers, the sync workers of every connected integration."""
    settings = Settings()

    async def run() -> None:
        async with services(settings) as wired:
            password = await ensure_first_admin(Accounts(wired.engine, wired.clock), admin_email)
            if password is not None:
                console.print(
                    f"First admin created: [bold]{admin_email}[/bold] with one-time password "
                    f"[bold]{password}[/bold] (you choose your own at the first login)."
                )
            listener = listen(host, port)
            await serve_web(
                wired,
                listener,
                workers=workers,
                secure_cookies=not insecure_cookies,
                sync_interval=sync_interval,
            )

    try:
        asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        return


__all__ = ["address_of", "listen", "serve", "serve_web", "users_app"]
