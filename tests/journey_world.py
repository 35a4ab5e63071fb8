"""A journey's world as processes: the sandbox provider, the Marketing Cloud sandbox (HTTPS)
and ``peoplesync serve`` with a business unit whose JWT secret is the sandbox's, a provider
account with an SMS sender, the data extensions deployed and the entry rows written. Tests
run ``sandbox marketing-cloud journeys run`` against it and can SIGKILL and restart serve."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SAMPLE_AUDIENCE
from peoplesync.marketing_cloud.deploy import deploy
from tests.browser.conftest import _free_port
from tests.served_org import PEOPLESYNC, served_sandbox

UNIT = "acme"
ACCOUNT = "main"
REPLY_EVENT = "SmsReply"


def wait_for(check: Callable[[], Any], seconds: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
    return found


@dataclass
class World:
    root: Path
    env: dict[str, str]
    url: str
    port: int
    mc: dict[str, Any]
    provider: dict[str, Any]
    serve: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def mc_dir(self) -> Path:
        return self.root / "mc"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command in this process (no interpreter start: the machine is shared)."""
        done = CliRunner().invoke(app, list(args), env=self.env)
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)

    def start_serve(self) -> None:
        log_path = self.root / f"serve-{len(self.logs)}.log"
        self.logs.append(log_path)
        with log_path.open("w") as log:
            self.serve = subprocess.Popen(
                [*PEOPLESYNC, "serve", "--port", str(self.port), "--insecure-cookies"],
                env={**self.env, "COLUMNS": "400"},
                stdout=log,
                stderr=log,
            )
        serve = self.serve

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                assert serve.poll() is None, log_path.read_text()
                return False

        wait_for(up, 60, "serve to start")

    def kill_serve(self) -> None:
        assert self.serve is not None
        self.serve.send_signal(signal.SIGKILL)
        self.serve.wait(timeout=30)
        self.serve = None

    def stop_serve(self) -> None:
        if self.serve is not None:
            self.serve.terminate()
            self.serve.wait(timeout=30)
            self.serve = None

    def journey_file(self, journey: dict[str, Any]) -> Path:
        path = self.root / f"{journey['name']}.yaml"
        path.write_text(yaml.safe_dump(journey, sort_keys=False))
        return path

    def run_journey(self, path: Path, *options: str) -> dict[str, Any]:
        done = self.cli(
            "sandbox",
            "marketing-cloud",
            "journeys",
            "run",
            "--config",
            str(path),
            "--data-dir",
            str(self.mc_dir),
            "--json",
            *options,
        )
        assert done.returncode == 0, done.stderr
        summary: dict[str, Any] = json.loads(done.stdout)
        return summary

    def activity_url(self, kind: str) -> str:
        return f"{self.url}/journey/{UNIT}/{kind}/config.json"

    def provider_messages(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"{self.provider['base_url']}/sandbox/messages?limit=100000",
            headers={"Authorization": f"App {self.provider['api_key']}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            state: dict[str, Any] = json.loads(response.read())
        messages: list[dict[str, Any]] = state["messages"]
        return messages

    def reply(self, sender: str, text: str) -> None:
        """A handset answers: the provider posts it to serve's inbound hook."""
        body = json.dumps({"from": sender, "to": "447860099299", "text": text}).encode()
        request = urllib.request.Request(
            f"{self.provider['base_url']}/control/inbound",
            data=body,
            headers={
                "Authorization": f"App {self.provider['api_key']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200


async def _prepare_mc(info: dict[str, Any], contacts: Sequence[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        await deploy(client)
        for start in range(0, len(contacts), 5000):
            await client.upsert_async(SAMPLE_AUDIENCE.key, contacts[start : start + 5000])
        await client.call(
            "POST",
            "/interaction/v1/eventDefinitions",
            json={"eventDefinitionKey": REPLY_EVENT, "name": "SMS replies"},
        )


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@contextmanager
def journey_world(
    root: Path, contacts: Sequence[dict[str, Any]], *provider_options: str
) -> Iterator[World]:
    """Everything started and configured; serve running. Stops it all at the end."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(root / "data"),
        "PEOPLESYNC_USER_PASSWORD": "journey world password",
        "PEOPLESYNC_PUBLIC_URL": url,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    with ExitStack() as stack:
        provider = stack.enter_context(
            served_sandbox("provider", root / "provider", "--seed", "7", *provider_options)
        )
        mc = stack.enter_context(served_sandbox("marketing-cloud", root / "mc"))
        world = World(root, env, url, port, mc, provider)
        stack.callback(world.stop_serve)
        asyncio.run(_prepare_mc(mc, contacts))
        env["PEOPLESYNC_PROVIDER_API_KEY"] = provider["api_key"]
        env["PEOPLESYNC_MC_CLIENT_SECRET"] = mc["client_secret"]
        env["PEOPLESYNC_MC_JWT_SECRET"] = mc["jwt_secret"]
        _ok(world.cli("providers", "add", ACCOUNT, "--base-url", provider["base_url"]))
        _ok(world.cli("providers", "senders", ACCOUNT, "--add", "Acme"))
        _ok(
            world.cli(
                "marketing-cloud",
                "add",
                "--name",
                UNIT,
                "--mid",
                mc["mid"],
                "--client-id",
                mc["client_id"],
                "--auth-url",
                mc["auth_url"],
                "--default-account",
                ACCOUNT,
            )
        )
        _ok(world.cli("marketing-cloud", "edit", UNIT, "--event-definition-key", REPLY_EVENT))
        hooks = json.loads(_ok(world.cli("messages", "webhooks", "--json")).stdout)
        mo = json.dumps({"url": hooks[0]["inbound"]}).encode()
        request = urllib.request.Request(
            f"{provider['base_url']}/control/mo-url",
            data=mo,
            method="PUT",
            headers={
                "Authorization": f"App {provider['api_key']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        world.start_serve()
        yield world
