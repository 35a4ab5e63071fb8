"""In Chromium against `peoplesync serve` and the sandbox provider (both processes): the send
form's channel picker swaps in WhatsApp's fields (a typed phone number kept), an empty template name shows the seed's
text beside it, then a WhatsApp template and a Viber message sent from the form reach the
sandbox provider through serve's own send loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, _free_port, run_cli
from tests.e2e.test_messages_crash import provider_state, sandbox_provider
from tests.served_org import PEOPLESYNC

WHATSAPP_NUMBER = "447860099299"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The sandbox provider, and `peoplesync serve` with an account on it (via the REST API)
    that has a WhatsApp and a Viber sender name."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_USER_PASSWORD": ADMIN_PASSWORD,
        "PEOPLESYNC_PUBLIC_URL": url,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)

    run_cli(env, "users", "add", ADMIN_EMAIL, "--role", "admin")
    token = run_cli(env, "users", "token", ADMIN_EMAIL)
    log_path = tmp_path / "serve.log"
    with sandbox_provider(tmp_path / "provider") as provider, log_path.open("w") as log:
        serve = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--insecure-cookies"],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text())
                time.sleep(0.2)
            with httpx.Client(
                base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}
            ) as api:
                added = api.post(
                    "/provider-accounts",
                    json={
                        "name": "main",
                        "base_url": provider["base_url"],
                        "api_key": provider["api_key"],
                    },
                )
                assert added.status_code == 201, added.text
                for channel, sender in (("whatsapp", WHATSAPP_NUMBER), ("viber", "Brand")):
                    named = api.post(
                        "/provider-accounts/main/senders",
                        json={"channel": channel, "sender": sender},
                    )
                    assert named.status_code == 201, named.text
            yield {"url": url, "provider": provider, "log": log_path}
        finally:
            serve.terminate()
            serve.wait(timeout=30)


async def test_whatsapp_and_viber_from_the_send_form(served: dict[str, Any], browser: Any) -> None:
    url = served["url"]
    context = await browser.new_context(viewport={"width": 1300, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/messages/send")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator('[data-fields-of="sms"]')).to_be_visible()

    # Picking a channel swaps in its fields (htmx), with its sender names to choose from; a
    # phone number typed before stays.
    await page.locator("#send-form").get_by_label("To (phone number)").fill("+385 91 123 4567")
    await page.locator("#channel-picker select").select_option("whatsapp")
    fields = page.locator('[data-fields-of="whatsapp"]')
    await expect(fields).to_be_visible()
    await expect(page.locator('[data-fields-of="sms"]')).to_have_count(0)
    form = page.locator("#send-form")
    await expect(form.get_by_label("To (phone number)")).to_have_value("+385 91 123 4567")
    await form.get_by_label("From (sender name)").select_option(WHATSAPP_NUMBER)
    await form.get_by_role("button", name="Send").click()
    error = page.locator('[data-error-for="whatsapp-templateName"]')
    await expect(error).to_contain_text("Error: Invalid template name")
    await page.screenshot(path=ARTIFACTS / "send-01-whatsapp-refused.png", full_page=True)

    await form.get_by_label("Template name").fill("welcome_2")
    await form.get_by_label("Template language").fill("en")
    await form.get_by_label("Placeholders").fill("Ana")
    await form.get_by_role("button", name="Send").click()
    await expect(page.locator("[data-message-status]")).to_have_text("Success: Message pending")
    whatsapp_id = page.url.split("/messages/")[1].split("?")[0]

    await page.goto(f"{url}/messages/send?channel=viber")
    form = page.locator("#send-form")
    await form.get_by_label("To (phone number)").fill("+385 91 123 4567")
    await form.get_by_label("From (sender name)").select_option("Brand")
    await form.get_by_label("Text", exact=True).fill("Spring sale starts today")
    await form.get_by_label("Promotional message").check()
    await page.screenshot(path=ARTIFACTS / "send-02-viber.png", full_page=True)
    await form.get_by_role("button", name="Send").click()
    await expect(page.locator("[data-message-status]")).to_have_text("Success: Message pending")
    viber_id = page.url.split("/messages/")[1].split("?")[0]
    await context.close()

    # serve's send loop takes both to the sandbox provider.
    deadline = time.monotonic() + 60
    while True:
        state = await asyncio.to_thread(provider_state, served["provider"])
        sent = {m["messageId"]: m["channel"] for m in state["messages"]}
        if whatsapp_id in sent and viber_id in sent:
            break
        assert time.monotonic() < deadline, served["log"].read_text()
        await asyncio.sleep(0.3)
    assert (sent[whatsapp_id], sent[viber_id]) == ("whatsapp", "viber")
