"""In Chromium: log in, add a Salesforce integration through the real OAuth redirect and the
sandbox org's consent page, and land on the integration list with the org connected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server
from tests.served_org import served_org


@pytest.fixture
def org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served_org(tmp_path / "org", "--seed-leads", "8", "--seed-contacts", "4") as info:
        yield info


async def test_connect_to_the_sandbox_org_through_oauth(
    server: Server, browser: Any, org: dict[str, Any]
) -> None:
    # The org's certificate comes from its own CA (the server trusts it through the form).
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, ignore_https_errors=True
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    await page.goto(f"{server.url}/salesforce")
    await expect(page).to_have_url(f"{server.url}/login?next=/salesforce")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}/salesforce")
    await expect(page.get_by_text("No integration yet.")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "10-salesforce-empty.png")

    await page.get_by_role("link", name="Add integration").click()
    await expect(page.get_by_role("heading", name="Add Salesforce integration")).to_be_visible()
    await page.get_by_label("Environment").select_option("custom")
    await page.get_by_role("textbox", name="Custom login URL").fill(org["login_url"])
    await page.get_by_role("textbox", name="CA certificate file").fill(org["ca_cert"])
    await page.get_by_role("textbox", name="Client id").fill(org["client_id"])
    await page.locator('input[name="client_secret"]').fill(org["client_secret"])
    await page.screenshot(path=ARTIFACTS / "11-salesforce-connect.png", full_page=True)
    await page.get_by_role("button", name="Connect to Salesforce").click()

    # The org's own consent page, reached by the real redirect.
    await expect(page.get_by_role("heading", name="Allow access?")).to_be_visible()
    assert page.url.startswith(org["login_url"] + "/services/oauth2/authorize?")
    await page.screenshot(path=ARTIFACTS / "12-salesforce-consent.png")
    await page.get_by_role("button", name="Allow").click()

    await expect(page).to_have_url(f"{server.url}/salesforce?connected=default")
    row = page.locator('tr[data-integration="default"]')
    await expect(row.locator("td[data-state]")).to_have_attribute("data-state", "active")
    await expect(row).to_contain_text(org["instance_url"])
    await page.screenshot(path=ARTIFACTS / "13-salesforce-connected.png")

    banner = page.locator('[data-connected="default"]')
    await expect(banner).to_contain_text("write nothing until you review them")

    await row.get_by_role("link", name="Status").click()
    await expect(page.get_by_role("heading", name="Salesforce · default")).to_be_visible()
    await expect(page.get_by_role("link", name="Reconnect")).to_be_visible()

    # The same org a second time (issue 12): a free name is proposed, and the org refused.
    await page.goto(f"{server.url}/salesforce/connect")
    await expect(page.get_by_role("textbox", name="Integration name")).to_have_value("org-2")
    await page.get_by_label("Environment").select_option("custom")
    await page.get_by_role("textbox", name="Custom login URL").fill(org["login_url"])
    await page.get_by_role("textbox", name="CA certificate file").fill(org["ca_cert"])
    await page.get_by_role("textbox", name="Client id").fill(org["client_id"])
    await page.locator('input[name="client_secret"]').fill(org["client_secret"])
    await page.get_by_role("button", name="Connect to Salesforce").click()
    await page.get_by_role("button", name="Allow").click()
    await expect(page.get_by_text("already connected as integration 'default'")).to_be_visible()
    await page.goto(f"{server.url}/salesforce")
    await expect(page.locator('tr[data-integration="org-2"]')).to_have_count(0)
    await context.close()
    assert not [p for p in problems if "404" not in p and "409" not in p], problems

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        [item] = (await api.get("/api/v1/integrations")).json()["items"]
        assert item["instance_url"] == org["instance_url"] and item["workers"] is True
