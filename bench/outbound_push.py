"""Outbound push: API calls and throughput to push edits and creates, and push latency.

Usage: python -m bench outbound_push [--edits N,N] [--creates N] [--latency-samples N]
       [--interval S]
Prints one JSON document per scenario. The org runs as one process (`peoplesync sandbox
salesforce`), the push as another:

- edits N: the org is seeded with N Contacts, a People store (SQLite) takes them in with the
  inbound sync (so N persons are linked), every person's title is changed in People, and one
  push pass is timed and its API calls counted;
- creates N: N new persons (with a company) are pushed once to an org seeded with a few
  thousand records: each becomes a Lead;
- with ``BENCH_PROFILE=FILE`` in the environment, the push pass runs under cProfile and its
  stats are written to FILE (``python -m pstats FILE``);
- latency: `peoplesync push run --follow` runs as its own process against a connected
  integration; the benchmark edits one linked person at a time in People and waits for the
  Lead to change in Salesforce: latency is the Lead's SystemModstamp minus the People commit.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps

CLI = [sys.executable, "-m", "peoplesync.cli.main"]
Cli = Callable[..., str]


def start_org(data_dir: Path, *options: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    server = subprocess.Popen(
        [
            *CLI,
            *("sandbox", "salesforce", "--data-dir", str(data_dir), "--port", "0"),
            *("--seed", "1", "--api-limit", "10000000", *options),
        ],
        stdout=subprocess.PIPE,
        stderr=(data_dir.parent / "org.log").open("w"),
        text=True,
    )
    assert server.stdout is not None
    return server, {**json.loads(server.stdout.readline()), "pid": server.pid}


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=60)


def client_for(info: dict[str, Any], http: httpx.AsyncClient) -> SalesforceClient:
    credentials = PasswordCredentials(
        info["client_id"], info["client_secret"], info["username"], info["password"]
    )
    return SalesforceClient(http, Authenticator(http, info["login_url"], credentials))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def push_once(
    client: SalesforceClient, store: SqlPeopleStore, org_pid: int
) -> dict[str, Any]:
    runner = OutboundRunner(client, store, default_steps(), SystemClock())
    calls = client.usage.calls
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    org_cpu, sync_cpu = cpu_seconds(org_pid), cpu_seconds(os.getpid())
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    report = await runner.run_once()
    seconds = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    sync_cpu = cpu_seconds(os.getpid()) - sync_cpu
    org_cpu = cpu_seconds(org_pid) - org_cpu
    written = report.updated + report.created
    return {
        "persons": report.persons,
        "updated": report.updated,
        "created": report.created,
        "linked_by_email": report.linked,
        "errors": len(report.errors),
        "api_calls": client.usage.calls - calls,
        "push_seconds": round(seconds, 2),
        "records_per_second": round(written / seconds) if seconds else None,
        "sync_cpu_seconds": round(sync_cpu, 2),
        "org_cpu_seconds": round(org_cpu, 2),
        "load_average_1m_at_push": round(os.getloadavg()[0], 2),
    }


async def edits(info: dict[str, Any], url: str) -> dict[str, Any]:
    """Sync process of the edits scenario."""
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    async with httpx.AsyncClient(verify=info["ca_cert"], timeout=600) as http:
        client = client_for(info, http)
        inbound = InboundRunner(
            client, store, InboundStep("Contact", DEFAULT_MAPPINGS["Contact"]), SystemClock()
        )
        await inbound.run_once()
        runner = OutboundRunner(client, store, default_steps(), SystemClock())
        # Start the push after what the inbound sync wrote (its changes are its own anyway).
        seq = await store.last_change_seq()
        await store.set_state(runner.state_key, {"position": {"seq": seq, "gaps": {}}})
        ids = [link.entity_id for link in await _contact_links(store)]
        started = time.perf_counter()
        for start in range(0, len(ids), 5000):
            await store.upsert_persons(
                [
                    PersonInput(values={"title": f"Bench {i}"}, id=i)
                    for i in ids[start : start + 5000]
                ],
                origin="ui",
            )
        edit_seconds = time.perf_counter() - started
        result = await push_once(client, store, int(info["pid"]))
    await engine.dispose()
    return {"linked_persons": len(ids), "people_edit_seconds": round(edit_seconds, 2), **result}


async def _contact_links(store: SqlPeopleStore) -> list[Any]:
    import sqlalchemy as sa

    from peoplesync.people import tables as t

    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(t.external_links.c.entity_id).where(t.external_links.c.object == "Contact")
        )
        return list(rows)


async def creates(info: dict[str, Any], url: str, count: int) -> dict[str, Any]:
    """Sync process of the creates scenario."""
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    for start in range(0, count, 5000):
        await store.upsert_persons(
            [
                PersonInput(
                    values={"first_name": "New", "last_name": f"Person {i}", "company": "Bench"},
                    emails=[f"new{i}@bench.example"],
                )
                for i in range(start, min(count, start + 5000))
            ],
            origin="ui",
        )
    async with httpx.AsyncClient(verify=info["ca_cert"], timeout=600) as http:
        result = await push_once(client_for(info, http), store, int(info["pid"]))
    await engine.dispose()
    return result


def sync_process(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.outbound_push", "--sync", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _get(info: dict[str, Any], token: str, path: str) -> Any:
    with httpx.Client(verify=info["ca_cert"], timeout=60) as http:
        response = http.get(
            info["instance_url"] + path, headers={"Authorization": f"Bearer {token}"}
        )
        return response.json()


def org_token(info: dict[str, Any]) -> str:
    form = {
        "grant_type": "password",
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "username": info["username"],
        "password": info["password"],
    }
    with httpx.Client(verify=info["ca_cert"], timeout=60) as http:
        response = http.post(info["login_url"] + "/services/oauth2/token", data=form)
        return str(response.json()["access_token"])


def linked_people(env: dict[str, str], info: dict[str, Any], tmp: Path, count: int) -> Cli:
    """Connect the data directory of ``env`` to the org, import ``count`` persons
    (lat<i>@bench.example), switch on the outbound steps a new integration holds for review,
    and push once: each person becomes a linked Lead. Returns the CLI runner on ``env``."""

    def cli(*args: str) -> str:
        return subprocess.run(
            [*CLI, *args], env=env, capture_output=True, text=True, check=True
        ).stdout

    cli(
        "salesforce", "connect", "--login-url", info["login_url"], "--client-id",
        info["client_id"], "--username", info["username"], "--ca-cert", info["ca_cert"],
    )  # fmt: skip
    people = tmp / "people.jsonl"
    people.write_text(
        "".join(
            json.dumps({"email": f"lat{i}@bench.example", "last_name": f"L{i}", "company": "B"})
            + "\n"
            for i in range(count)
        )
    )
    cli("people", "import", str(people), "--json")
    steps = json.loads(cli("steps", "list", "--json"))
    held = [step["name"] for step in steps if step.get("awaiting_review")]
    if held:  # reviewed here: the benchmark wants them writing
        cli("steps", "enable", *held)
    cli("push", "run", "--json")
    return cli


def latency(tmp: Path, samples: int, interval: float) -> dict[str, Any]:
    """Edit one person at a time in People while `push run --follow` runs; time each edit's
    arrival in Salesforce (the Lead's SystemModstamp)."""
    server, info = start_org(tmp / "org")
    data = tmp / "data"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(data),
        "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
        "PEOPLESYNC_SF_PASSWORD": info["password"],
    }
    follower = None
    try:
        linked_people(env, info, tmp, samples)
        follower = subprocess.Popen(
            [*CLI, "push", "run", "--follow", "--interval", str(interval), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        token = org_token(info)
        delays = asyncio.run(_edit_and_wait(info, token, data, samples))
    finally:
        if follower is not None:
            follower.terminate()
            follower.wait(timeout=60)
        stop(server)
    delays.sort()
    return {
        "samples": len(delays),
        "interval_seconds": interval,
        "p50_seconds": round(statistics.median(delays), 3),
        "p95_seconds": round(delays[max(0, int(len(delays) * 0.95) - 1)], 3),
        "max_seconds": round(delays[-1], 3),
    }


async def _edit_and_wait(info: dict[str, Any], token: str, data: Path, samples: int) -> list[float]:
    engine = create_engine(f"sqlite+aiosqlite:///{(data / 'peoplesync.db').resolve()}")
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    owners = await store.find_by_emails(f"lat{i}@bench.example" for i in range(samples))
    delays: list[float] = []
    for i in range(samples):
        person = owners[f"lat{i}@bench.example"]
        links = (await store.links_of("person", [person]))[person]
        lead = next(link.external_id for link in links if link.object == "Lead")
        title = f"Moved {i} {time.time()}"
        await store.upsert_persons([PersonInput(values={"title": title}, id=person)], origin="ui")
        committed = time.time()
        while True:
            record = _get(info, token, f"/services/data/v59.0/sobjects/Lead/{lead}")
            if record.get("Title") == title:
                stamp = datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
                delays.append(max(0.0, stamp.timestamp() - committed))
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
    await engine.dispose()
    return delays


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--sync"]:
        kind, info, url = argv[1], json.loads(argv[2]), argv[3]
        if kind == "edits":
            result = asyncio.run(edits(info, url))
        else:
            result = asyncio.run(creates(info, url, int(argv[4])))
        print(json.dumps(result), flush=True)
        return
    parser = argparse.ArgumentParser(prog="bench outbound_push")
    parser.add_argument("--edits", default="10000,100000")
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--latency-samples", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    for count in [int(n) for n in args.edits.split(",") if n]:
        with tempfile.TemporaryDirectory() as tmp:
            server, info = start_org(
                Path(tmp) / "org",
                "--seed-contacts",
                str(count),
                "--seed-accounts",
                str(max(1, count // 20)),
            )
            try:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'people.db'}"
                result = sync_process("edits", json.dumps(info), url)
            finally:
                stop(server)
        print(
            json.dumps({"benchmark": "outbound_push", "scenario": "edits", **result, **machine()})
        )
    if args.creates:
        with tempfile.TemporaryDirectory() as tmp:
            server, info = start_org(Path(tmp) / "org", "--seed-leads", "2000")
            try:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'people.db'}"
                result = sync_process("creates", json.dumps(info), url, str(args.creates))
            finally:
                stop(server)
        print(
            json.dumps(
                {"benchmark": "outbound_push", "scenario": "creates", "new_persons": args.creates}
                | result
                | machine()
            )
        )
    if args.latency_samples:
        with tempfile.TemporaryDirectory() as tmp:
            result = latency(Path(tmp), args.latency_samples, args.interval)
        print(
            json.dumps({"benchmark": "outbound_push", "scenario": "latency", **result, **machine()})
        )


if __name__ == "__main__":
    main()
