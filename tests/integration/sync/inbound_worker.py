"""A sync process for the crash test: runs the Lead step to the end against a served org.

Arguments: org info (JSON), People database URL, batch size, and optionally the bulk threshold
(without it the transfer goes through REST).
"""

from __future__ import annotations

import asyncio
import json
import sys

import httpx

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS


async def main(info: dict[str, str], url: str, batch: int, bulk_threshold: int | None) -> None:
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    async with httpx.AsyncClient(verify=info["ca_cert"], timeout=60) as http:
        credentials = PasswordCredentials(
            info["client_id"], info["client_secret"], info["username"], info["password"]
        )
        client = SalesforceClient(http, Authenticator(http, info["login_url"], credentials))
        runner = InboundRunner(
            client,
            store,
            InboundStep("Lead", DEFAULT_MAPPINGS["Lead"]),
            SystemClock(),
            batch_size=batch,
            bulk_threshold=bulk_threshold,
            bulk_batch_size=batch,
            bulk_page_size=150,
        )
        report = await runner.run_once()
    await engine.dispose()
    print(
        json.dumps(
            {"read": report.read, "created": report.created, "rejected": len(report.rejected)}
        ),
        flush=True,
    )


if __name__ == "__main__":
    threshold = int(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), threshold))
