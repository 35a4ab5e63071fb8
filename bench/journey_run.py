"""A journey of N contacts run by the Marketing Cloud sandbox against a real `peoplesync serve`
and the sandbox provider: contacts/s through the journey, and each contact's messages at the
provider (0 duplicate and 0 lost sends is the target). Prints JSON.

The journey: entry rows -> SMS Message (signed executes, a tenth re-sent as Journey Builder
retries) -> Wait -> delivery split. Every process runs on this machine.

    python -m bench journey_run --contacts 100000 --wait 30

Besides the counts, each hop of a contact's delivery report is timed (``journey_hops``):
from queued to stored, and whether it was stored before the contact's Reports split ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.journey_hops import hop_summary, stage_rates, timelines
from bench.process_cpu import load_average
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SAMPLE_AUDIENCE
from peoplesync.marketing_cloud.deploy import deploy

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]
ENTRY = "DEAudience-bench"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _sandbox(kind: str, folder: Path, *options: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [*PEOPLESYNC, "sandbox", kind, "--data-dir", str(folder), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=60)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*PEOPLESYNC, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}: {done.stderr}")
    return done.stdout


async def _entry(info: dict[str, Any], contacts: int) -> None:
    async with httpx.AsyncClient(timeout=120) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        await deploy(client)
        rows = [
            {"ContactKey": f"B-{n:06d}", "FirstName": f"N{n}", "Mobile": f"+3859{n:07d}1"}
            for n in range(contacts)
        ]
        for start in range(0, len(rows), 30_000):
            await client.upsert_async(SAMPLE_AUDIENCE.key, rows[start : start + 30_000])


def _journey(url: str, wait: float) -> dict[str, Any]:
    root = f"{url}/journey/bench"
    outcomes = ("DELIVERED", "UNDELIVERABLE", "REJECTED", "EXPIRED", "NOT_AVAILABLE")
    return {
        "name": "bench",
        "entry": {"data_extension": SAMPLE_AUDIENCE.key, "event_definition_key": ENTRY},
        "activities": [
            {
                "key": "SMS-1",
                "type": "custom",
                "config_url": f"{root}/message/config.json",
                "in_arguments": [
                    {"channel": "sms"},
                    {"from": "Acme"},
                    {"text": f'Hi {{{{Event.{ENTRY}."FirstName"}}}}'},
                    {"phone": f'{{{{Event.{ENTRY}."Mobile"}}}}'},
                    {"shortenUrl": "false"},
                    {"trackClicks": "false"},
                ],
                "next": "WAIT-1",
            },
            {"key": "WAIT-1", "type": "wait", "seconds": wait, "next": "SPLIT-1"},
            {
                "key": "SPLIT-1",
                "type": "custom",
                "config_url": f"{root}/delivery-split/config.json",
                "in_arguments": [{"messageId": "{{Interaction.SMS-1.messageId}}"}],
                "outcomes": dict.fromkeys(outcomes),
            },
        ],
    }


def _provider_numbers(info: dict[str, Any], contacts: int) -> Counter[str]:
    answer = httpx.get(
        f"{info['base_url']}/sandbox/messages",
        params={"limit": str(contacts * 2)},
        headers={"Authorization": f"App {info['api_key']}"},
        timeout=300,
    )
    state = answer.json()
    return Counter(message["to"] for message in state["messages"])


def run(contacts: int, wait: float, retries: float, report_delay: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        root = Path(folder)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        provider = stack.enter_context(
            _sandbox("provider", root / "provider", "--report-delay", str(report_delay))
        )
        mc = stack.enter_context(_sandbox("marketing-cloud", root / "mc", "--http"))
        asyncio.run(_entry(mc, contacts))
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(root / "data"),
            "PEOPLESYNC_PUBLIC_URL": url,
            "PEOPLESYNC_PROVIDER_API_KEY": provider["api_key"],
            "PEOPLESYNC_MC_CLIENT_SECRET": mc["client_secret"],
            "PEOPLESYNC_MC_JWT_SECRET": mc["jwt_secret"],
        }
        env.pop("PEOPLESYNC_DATABASE_URL", None)
        _cli(env, "providers", "add", "main", "--base-url", provider["base_url"])
        _cli(env, "providers", "senders", "main", "--add", "Acme")
        _cli(
            env, "marketing-cloud", "add", "--name", "bench", "--mid", mc["mid"],
            # serve only answers Journey Builder here: the auth URL is never called
            "--client-id", mc["client_id"], "--auth-url", "https://bench.auth.example/",
            "--default-account", "main",
        )  # fmt: skip
        log = stack.enter_context((root / "serve.log").open("w"))
        serve = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        stack.callback(serve.wait, 60)
        stack.callback(serve.terminate)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.3)
        path = root / "bench.yaml"
        path.write_text(yaml.safe_dump(_journey(url, wait), sort_keys=False))
        loads = [load_average()]
        summary = json.loads(
            _cli(
                env,
                "sandbox",
                "marketing-cloud",
                "journeys",
                "run",
                "--config",
                str(path),
                "--data-dir",
                str(root / "mc"),
                "--json",
                "--inject-retries",
                str(retries),
            )
        )
        loads.append(load_average())
        numbers = _provider_numbers(provider, contacts)
        lines = timelines(
            root / "data" / "peoplesync.db",
            root / "provider" / "provider.sqlite3",
            root / "mc" / "journeys.sqlite3",
            ("SMS-1", "WAIT-1", "SPLIT-1"),
        )
    execute = summary["execute"]["SMS-1"]
    return {
        "benchmark": "journey_run",
        "contacts": contacts,
        "wait_seconds": wait,
        "finished": summary["finished"],
        "ejected": summary["ejected"],
        "retries_injected": summary["retries_injected"],
        "duplicate_sends": sum(count - 1 for count in numbers.values() if count > 1),
        "lost_sends": contacts - len(numbers),
        "seconds": summary["seconds"],
        "contacts_per_second": summary["contacts_per_second"],
        "message_execute_per_second": round(
            execute["calls"] / max(summary["seconds"] - wait, 1e-9), 1
        ),
        "message_execute_p50_ms": execute["p50_ms"],
        "message_execute_p99_ms": execute["p99_ms"],
        "branches": summary["branches"].get("SPLIT-1", {}),
        "report_delay_seconds": report_delay,
        **hop_summary(lines),
        "stage_rates_per_second": stage_rates(lines),
        "load_average_1m": loads,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench journey_run")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--wait", type=float, default=30.0, help="seconds of the Wait step")
    parser.add_argument("--retries", type=float, default=0.1, help="share of executes re-sent")
    parser.add_argument(
        "--report-delay",
        type=float,
        default=5.0,
        help="the sandbox provider's seconds from accept to the final delivery report "
        "(a real SMS delivery report takes seconds)",
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.contacts, args.wait, args.retries, args.report_delay)))
