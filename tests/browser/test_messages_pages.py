"""In Chromium against `peoplesync serve`: add a provider account (an empty form first), then on
the Messages page filter by channel and open a message's trail."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server


async def test_add_a_provider_then_filter_messages_and_open_a_trail(
    server: Server, browser: Any
) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    await page.goto(f"{server.url}/messaging/providers")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}/messaging/providers")
    await page.get_by_label("Base URL").fill("")
    await page.get_by_role("button", name="Add account").click()
    await expect(page.locator('[data-error-for="name"]')).to_contain_text("needs a name")
    await page.screenshot(path=ARTIFACTS / "messages-01-empty-provider-form.png", full_page=True)
    await page.locator("#add-provider input[name=name]").fill("main")
    await page.get_by_label("Base URL").fill("https://x.api.example.com")
    await page.get_by_label("API key").fill("not-shown-again")
    await page.get_by_role("button", name="Add account").click()
    await expect(page).to_have_url(f"{server.url}/messaging/providers/main")
    await page.get_by_label("Sender name").fill("InfoSMS")
    await page.get_by_role("button", name="Add sender name").click()
    await expect(page.locator('[data-sender="InfoSMS"]')).to_be_visible()

    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        for number in ("+385911110001", "+385911110002"):
            sent = await api.post("/messages", json={"to": number, "text": "Hello"})
            assert sent.status_code == 201, sent.text
        viber = await api.post(
            "/messages",
            json={"channel": "viber", "to": "+385911110003", "text": "Hi", "from": "Brand"},
        )
        assert viber.status_code == 201, viber.text

    await page.get_by_role("link", name="Messages", exact=True).first.click()
    await expect(page.locator("tr[data-message]")).to_have_count(3)
    await page.get_by_label("Channel").select_option("viber")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("tr[data-message]")).to_have_count(1)
    await expect(page.locator("tr[data-message]")).to_have_attribute("data-channel", "viber")
    await page.screenshot(path=ARTIFACTS / "messages-02-filtered.png", full_page=True)
    await page.get_by_role("link", name="Trail").click()
    await expect(page.locator("[data-message-status]")).to_have_text("Success: Message pending")
    await expect(page.locator('#trail [data-event="queued"]')).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "messages-03-trail.png", full_page=True)
    await context.close()
    # Only the refused empty form (422) may fail to load (no favicon is asked for).
    assert not [p for p in problems if "422" not in p], problems


async def test_a_message_with_a_long_request_fits_the_page(server: Server, browser: Any) -> None:
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        added = await api.post(
            "/provider-accounts",
            json={"name": "main", "base_url": "https://x.api.example.com", "api_key": "k"},
        )
        assert added.status_code == 201, added.text
        text = "Hi Ivo, your spring offer: https://shop.example.com/" + "offers/spring" * 6
        sent = await api.post(
            "/messages", json={"to": "+385911230002", "text": text, "from": "PeopleSync"}
        )
        assert sent.status_code == 201, sent.text
    context = await browser.new_context(viewport={"width": 1200, "height": 800})
    page = await context.new_page()
    await page.goto(f"{server.url}/messages/{sent.json()['message_id']}")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("[data-message-status]")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "messages-04-long-request.png", full_page=True)
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    await context.close()
