"""CLI: ``peoplesync worker``: run queue jobs (sync, streams, pushes, transfers) on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.observability.log_format import LogFormat, configure_logging
from peoplesync.settings import Settings
from peoplesync.workers.queue.worker import run_worker

console = Console(stderr=True)


def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            help="Jobs this worker runs at once; every real-time integration holds two "
            "(its change streams and its push loop)",
        ),
    ] = 8,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text, or json: one JSON object a line with integration and job id",
        ),
    ] = "text",
) -> None:
    """Run sync jobs from the queue in PostgreSQL; start as many as you like, on any
    machines sharing the database (PEOPLESYNC_DATABASE_URL). Stops on Ctrl-C or SIGTERM."""
    settings = Settings()
    if log_format not in ("text", "json"):
        console.print(f"[red]error:[/red] --log-format is text or json, not {log_format!r}")
        raise typer.Exit(2)
    if log_format == "json":
        chosen: LogFormat = "json"
        configure_logging(chosen, settings.log_level)
    else:
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(run_worker(settings, concurrency))
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")
