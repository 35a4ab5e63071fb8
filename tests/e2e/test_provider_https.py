"""The sandbox provider as a process over HTTPS: peoplesync trusts it through the account's
CA file, and a reply from a handset reaches the MO URL with the report retry schedule."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from peoplesync.errors import ValidationError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.outbox import MessageDraft
from peoplesync.settings import Settings
from peoplesync.wiring import messaging
from tests.e2e.test_messages_crash import sandbox_provider
from tests.infobip_contract import webhook_errors
from tests.served_org import PEOPLESYNC
from tests.unit.messaging.test_channel_validation import VALID


class _Receiver(BaseHTTPRequestHandler):
    posts: ClassVar[list[dict[str, Any]]] = []
    fail_next = 1  # the first post fails: the provider must try again

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_next > 0:
            _Receiver.fail_next -= 1
            self.send_response(503)
        else:
            _Receiver.posts.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mo"
    finally:
        server.shutdown()
        server.server_close()


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_PROVIDER_API_KEY": KEY,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    return subprocess.run(
        [*PEOPLESYNC, *args], env=env, capture_output=True, text=True, timeout=120
    )


KEY = "e2e-https-key"


async def _second_account_and_two_messages(tmp_path: Path, base_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=None)
    async with messaging(settings) as services:
        await services.accounts.add("plain", base_url, KEY)  # no CA file
        with pytest.raises(ValidationError, match="ca_cert"):
            await services.accounts.add("x", base_url, KEY, ca_cert=str(tmp_path / "no.pem"))
        listed = {a.name: a.ca_cert for a in await services.accounts.list()}
        assert listed["plain"] is None and str(listed["main"]).endswith("ca.pem")
        request = VALID[Channel.SMS] | {"to": "385911234567", "from": "385981000000"}
        await services.outbox.enqueue(
            [MessageDraft(f"via-{a}", a, "sms", request) for a in ("main", "plain")]
        )


def test_https_provider_trusted_by_its_ca_and_replies_reach_the_mo_url(
    tmp_path: Path, receiver: str
) -> None:
    options = ("--https", "--api-key", KEY, "--mo-url", receiver, "--retry-scale", "0.01")
    with sandbox_provider(tmp_path / "provider", *options) as info:
        assert info["base_url"].startswith("https://127.0.0.1:")
        ca = info["ca_cert"]
        assert Path(ca).read_text().startswith("-----BEGIN CERTIFICATE-----")
        trusted = _cli(
            tmp_path, "providers", "add", "main", "--base-url", info["base_url"], "--ca-cert", ca
        )
        assert trusted.returncode == 0, trusted.stderr
        asyncio.run(_second_account_and_two_messages(tmp_path, info["base_url"]))
        work = _cli(tmp_path, "messages", "work", "--once", "--json")
        assert work.returncode == 0, work.stderr
        # The system's trust store does not know the sandbox CA: that account's message waits.
        assert json.loads(work.stdout) == {
            "claimed": 2,
            "accepted": 1,
            "rejected": 0,
            "retried": 1,
        }

        context = ssl.create_default_context(cafile=ca)
        reply = urllib.request.Request(
            f"{info['base_url']}/control/inbound",
            data=json.dumps(
                {"from": "385911234567", "to": "385981000000", "text": "YES please"}
            ).encode(),
            headers={"Authorization": f"App {KEY}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(reply, context=context, timeout=10) as answer:
            message_id = json.loads(answer.read())["messageId"]
        deadline = time.monotonic() + 20
        while not _Receiver.posts and time.monotonic() < deadline:
            time.sleep(0.05)
        [posted] = _Receiver.posts
        assert posted["results"][0]["messageId"] == message_id
        assert posted["results"][0]["keyword"] == "YES"
        assert (
            webhook_errors("infobip-sms-openapi.json", "receive-inbound-sms-messages", posted) == []
        )
        page = urllib.request.Request(
            f"{info['base_url']}/handset",
            headers={"Authorization": "Basic " + base64.b64encode(f"me:{KEY}".encode()).decode()},
        )
        with urllib.request.urlopen(page, context=context, timeout=10) as shown:
            assert "YES please <small>(posted)</small>" in shown.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{info['base_url']}/handset", context=context, timeout=10)
        assert refused.value.code == 401
        refused.value.close()
