"""A push process for the crash test: pushes every People change to a served org.

Arguments: org info (JSON), People database URL, page size (changes per commit).
"""

from __future__ import annotations

import asyncio
import json
import sys

import httpx

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps


async def main(info: dict[str, str], url: str, page_size: int) -> None:
    engine = create_engine(url)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    async with httpx.AsyncClient(verify=info["ca_cert"], timeout=60) as http:
        credentials = PasswordCredentials(
            info["client_id"], info["client_secret"], info["username"], info["password"]
        )
        client = SalesforceClient(http, Authenticator(http, info["login_url"], credentials))
        runner = OutboundRunner(client, store, default_steps(), SystemClock(), page_size=page_size)
        print("started", flush=True)  # the crash test times its kill from here
        report = await runner.run_once()
    await engine.dispose()
    print(json.dumps(report.summary()), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
