"""``peoplesync demo``: the product on embedded defaults, with no account anywhere.

Today it starts the Salesforce sandbox org seeded with realistic, messy data and tells the
user how to reach it; the sync engine joins it as it lands.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.server import seed_if_empty, serve
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.integration import Integration, save_integration
from peoplesync.sync_cli import run_inbound
from peoplesync.wiring import people_store

DEMO_COUNTS = {"accounts": 300, "contacts": 2000, "leads": 1000}


def _instructions(info: dict[str, Any]) -> str:
    base, ca = info["instance_url"], info["ca_cert"]
    return "\n".join(
        [
            f"[b]Salesforce sandbox org[/b] is running at {base}",
            f"  login URL      {info['login_url']}",
            f"  username       {info['username']}",
            f"  password       {info['password']}",
            f"  client id      {info['client_id']}",
            f"  client secret  {info['client_secret']}",
            f"  CA certificate {ca}",
            "",
            "Get a token and query leads:",
            f"  curl -s --cacert {ca} {base}/services/oauth2/token -d grant_type=password "
            f"-d client_id={info['client_id']} -d client_secret={info['client_secret']} "
            f"-d username={info['username']} -d password={info['password']}",
            f"  curl -s --cacert {ca} -H 'Authorization: Bearer TOKEN' "
            f"'{base}/services/data/v59.0/query?q=SELECT+Name,Email,Status+FROM+Lead+LIMIT+5'",
            "",
            "Press Ctrl+C to stop; the org keeps its data between runs.",
        ]
    )


async def _first_sync(settings: Settings, info: dict[str, Any], console: Console) -> dict[str, Any]:
    """Connect People to the org and bring its Leads and Contacts in."""
    integration = Integration(
        "default",
        info["login_url"],
        info["client_id"],
        info["client_secret"],
        info["username"],
        info["password"],
        info["ca_cert"],
    )
    async with people_store(settings) as store:
        await save_integration(
            store, SecretBox.from_data_dir(settings.data_dir, settings.secret_key), integration
        )
    with console.status("syncing Accounts, Leads and Contacts into People..."):
        summary = await run_inbound(settings)
    rejected = sum(summary[sobject]["rejected"] for sobject in ("Account", "Lead", "Contact"))
    console.print(
        f"People holds {summary['persons']} persons from {summary['Lead']['read']} leads and "
        f"{summary['Contact']['read']} contacts, and {summary['companies']} companies from "
        f"{summary['Account']['read']} accounts ({summary['api_calls']} API calls; "
        f"{rejected} records rejected, "
        "see `peoplesync sync run --json`). Run `peoplesync sync run` again after editing a record."
    )
    return summary


async def run_demo(
    data_dir: Path, port: int, *, once: bool, console: Console, settings: Settings | None = None
) -> dict[str, Any]:
    """Seed (first run only) and serve the sandbox org; ``once`` stops when it is up.

    ``data_dir`` must be absolute.
    """
    config = SandboxConfig(data_dir=data_dir / "sandbox-salesforce", seed=42)
    with Progress(
        TextColumn("seeding {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
    ) as progress:
        tasks = {
            "Account": progress.add_task("accounts", total=DEMO_COUNTS["accounts"]),
            "Contact": progress.add_task("contacts", total=DEMO_COUNTS["contacts"]),
            "Lead": progress.add_task("leads", total=DEMO_COUNTS["leads"]),
        }
        counts = await seed_if_empty(
            config,
            **DEMO_COUNTS,
            progress=lambda sobject, n: (
                progress.advance(tasks[sobject], n) if sobject in tasks else None
            ),
        )
    if counts is not None:
        console.print(
            f"seeded {counts.accounts} accounts, {counts.contacts} contacts, {counts.leads} leads, "
            f"{counts.opportunities} opportunities, {counts.campaigns} campaigns"
        )
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(config, "127.0.0.1", port, ready.set_result, stop))
    info = await asyncio.wait_for(ready, timeout=60)
    console.print(_instructions(info), soft_wrap=True)
    if settings is not None:
        info["sync"] = await _first_sync(settings, info, console)
    if once:
        stop.set()
    await server
    return info
