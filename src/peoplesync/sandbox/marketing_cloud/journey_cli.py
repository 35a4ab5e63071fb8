"""``peoplesync sandbox marketing-cloud journeys run|show``: the sandbox's Journey Builder.

``run`` works in-process against the sandbox's data dir (its entry data extensions, its JWT
secret, the API events it received); the activities are called over HTTP at the URLs of
their config.json. Run it beside a serving sandbox on the same data dir so that API events
fired to the sandbox resume contacts waiting on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml

from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.marketing_cloud.journey_calls import CallPolicy
from peoplesync.sandbox.marketing_cloud.journey_model import JourneyProblem, load_journey
from peoplesync.sandbox.marketing_cloud.journey_runner import JourneyRunner, RunOptions
from peoplesync.sandbox.marketing_cloud.journey_store import JourneyStore
from peoplesync.sandbox.marketing_cloud.server import stored_credentials
from peoplesync.sandbox.marketing_cloud.store import SandboxStore

journeys_app = typer.Typer(help="Run journeys in the sandbox and show contacts' paths.")
DataDir = Annotated[
    Path, typer.Option("--data-dir", help="The sandbox's data dir (as given to the sandbox)")
]
DEFAULT_DIR = Path(".peoplesync/sandbox-marketing-cloud")
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON summary")]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@journeys_app.command("run")
def run(
    config: Annotated[Path, typer.Option("--config", help="The journey's YAML file")],
    data_dir: DataDir = DEFAULT_DIR,
    inject_retries: Annotated[
        float,
        typer.Option(help="Share of successful executes sent again, as a Journey Builder retry"),
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed choosing the retried executes")] = 0,
    ca_cert: Annotated[
        Path | None, typer.Option("--ca-cert", help="A CA file to trust for the activities")
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(help="Start a new run even if the journey's latest run never finished"),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Run a journey over its entry data extension; progress on stderr, a summary at the end.

    A run killed before its end is continued by the next ``run`` of the same journey:
    contacts already past a step do not repeat it; those caught inside a step repeat it as
    a Journey Builder retry (same ids)."""
    try:
        journey = load_journey(yaml.safe_load(config.read_text()))
    except (OSError, yaml.YAMLError) as error:
        _say(f"error: cannot read {config}: {error}")
        raise typer.Exit(1) from None
    except JourneyProblem as problem:
        _say(f"error: {config}: {problem.message}")
        raise typer.Exit(1) from None
    root = data_dir.resolve()
    secret = stored_credentials(root)["jwt_secret"]
    options = RunOptions(
        jwt_secret=secret, inject_retry_rate=inject_retries, seed=seed, resume=not fresh
    )
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca_cert)) if ca_cert else True
    )

    async def go() -> dict[str, Any]:
        store = SandboxStore(SandboxConfig(root, "", "", "").database_path)
        journeys = JourneyStore(root)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        await store.open()
        await journeys.open()
        try:
            async with contextlib.AsyncExitStack() as clients:
                http = await clients.enter_async_context(
                    httpx.AsyncClient(verify=verify, limits=limits)
                )

                def client_for(policy: CallPolicy) -> httpx.AsyncClient:
                    size = policy.concurrent_requests
                    sized = httpx.Limits(max_connections=size, max_keepalive_connections=size)
                    client = httpx.AsyncClient(verify=verify, limits=sized)
                    clients.push_async_callback(client.aclose)
                    return client

                runner = JourneyRunner(
                    journey, options, http, store, journeys, _say, client_for=client_for
                )
                return await runner.run()
        finally:
            await journeys.close()
            await store.close()

    try:
        summary = asyncio.run(go())
    except JourneyProblem as problem:
        _say(f"error: {problem.message}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(summary))
        return
    _say(
        f"{summary['run']}: {summary['finished']} of {summary['contacts']} contacts through, "
        f"{summary['ejected']} ejected, {summary['seconds']} s"
    )
    for path, count in summary["paths"].items():
        typer.echo(f"{count:>8}  {path}")


@journeys_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The journey's name")],
    data_dir: DataDir = DEFAULT_DIR,
    contact: Annotated[
        str | None, typer.Option(help="Show this contact's path in the latest run")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The latest run of a journey: its summary and contacts per activity and branch."""

    async def read() -> dict[str, Any] | None:
        journeys = JourneyStore(data_dir.resolve())
        await journeys.open()
        try:
            runs = await journeys.runs(name)
            if not runs:
                return None
            latest = runs[0]
            found: dict[str, Any] = {**latest, "runs": len(runs)}
            found["counts"] = await journeys.counts(latest["run"])
            if contact is not None:
                found["path"] = await journeys.path(latest["run"], contact)
            return found
        finally:
            await journeys.close()

    found = asyncio.run(read())
    if found is None:
        _say(f"error: no run of a journey named {name} in {data_dir}")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found))
        return
    state = "running" if found["finished"] is None else "finished"
    typer.echo(f"{found['run']} ({state}, {found['runs']} runs of {name})")
    for row in found["counts"]:
        branch = f" [{row['branch']}]" if row["branch"] else ""
        typer.echo(f"{row['contacts']:>8}  {row['activity']} {row['status']}{branch}")
    for step in found.get("path", []):
        typer.echo(f"  {step['seq']}. {step['activity']} {step['status']} {step['out']}")
