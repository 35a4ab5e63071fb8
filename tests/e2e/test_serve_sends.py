"""`peoplesync serve` sends what is queued: the sandbox provider and serve as processes, a
provider account added through the REST API after serve started, a message queued through
the REST API goes out from serve's own send loop and its delivery report comes back; an
account whose key the provider refuses stops nobody else."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import _free_port
from tests.e2e.test_messages_crash import sandbox_provider
from tests.served_org import PEOPLESYNC

ADMIN = "admin@example.com"
DELIVERED_NUMBER = "+385911234567"  # the sandbox's outcome table delivers this ending


def _wait(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def _account(api: httpx.Client, name: str, base_url: str, api_key: str) -> None:
    added = api.post(
        "/provider-accounts", json={"name": name, "base_url": base_url, "api_key": api_key}
    )
    assert added.status_code == 201, added.text
    sender = api.post(
        f"/provider-accounts/{name}/senders", json={"channel": "sms", "sender": "Acme"}
    )
    assert sender.status_code == 201, sender.text


def _send(api: httpx.Client, account: str, text: str) -> str:
    sent = api.post(
        "/messages",
        json={"channel": "sms", "to": DELIVERED_NUMBER, "text": text, "account": account},
    )
    assert sent.status_code == 201, sent.text
    message_id: str = sent.json()["message_id"]
    return message_id


def test_serve_sends_a_message_queued_through_the_api(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_USER_PASSWORD": "serve sends password",
        "PEOPLESYNC_PUBLIC_URL": url,  # where the provider sends delivery reports
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    subprocess.run(
        [*PEOPLESYNC, "users", "add", ADMIN, "--role", "admin"], env=env, check=True, timeout=120
    )
    token = subprocess.run(
        [*PEOPLESYNC, "users", "token", ADMIN],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log_path = tmp_path / "serve.log"
    with (
        sandbox_provider(tmp_path / "provider", "--seed", "7") as provider,
        log_path.open("w") as log,
    ):
        serve = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--insecure-cookies"],
            env={**env, "COLUMNS": "400"},
            stdout=log,
            stderr=log,
        )
        try:

            def up() -> bool:
                try:
                    return httpx.get(f"{url}/health", timeout=2).status_code == 200
                except httpx.TransportError:
                    assert serve.poll() is None, log_path.read_text()
                    return False

            _wait(up, 40, "serve to start")
            with httpx.Client(
                base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api:
                # Both accounts come after serve started: its send loop must pick them up.
                _account(api, "refused", provider["base_url"], "not-the-key")
                _account(api, "main", provider["base_url"], provider["api_key"])
                stuck = _send(api, "refused", "never accepted")
                sent = _send(api, "main", "hello from serve")

                def delivered() -> dict[str, Any] | None:
                    message: dict[str, Any] = api.get(f"/messages/{sent}").json()
                    return message if message["state"] == "delivered" else None

                message = _wait(delivered, 40, f"delivery; serve said:\n{log_path.read_text()}")
                assert [e["kind"] for e in message["events"]] == ["queued", "sent", "delivered"]
                held = api.get(f"/messages/{stuck}").json()
                assert held["state"] not in {"sent", "delivered"}, held
        finally:
            serve.terminate()
            # uvicorn shuts down cleanly, then raises the signal again for its exit status.
            assert serve.wait(timeout=30) in {0, -15}, log_path.read_text()
    said = log_path.read_text()
    assert "Application shutdown complete" in said  # the send loop stopped in time
    assert "with sync workers and message sends" in said
    assert "provider account 'refused' refused its key; others go on" in said
    assert "not-the-key" not in said  # the refused key is never shown
