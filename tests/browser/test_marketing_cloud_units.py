"""In Chromium against `peoplesync serve` and the Marketing Cloud sandbox (a process over
HTTPS): an empty form shows every field's error; a unit is added, its endpoints shown, its
connection tested and its data extensions deployed (then unchanged on a second deploy);
adding it twice is refused on the name; the unit is removed after a confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server
from tests.served_org import served_sandbox


async def _fill(page: Any, info: dict[str, Any], name: str) -> None:
    form = page.locator("#add-unit")
    await form.locator("input[name=name]").fill(name)
    await form.locator("input[name=mid]").fill(info["mid"])
    await form.locator("input[name=client_id]").fill(info["client_id"])
    await form.locator("input[name=client_secret]").fill(info["client_secret"])
    await form.locator("input[name=auth_url]").fill(info["auth_url"])
    await form.locator("input[name=jwt_secret]").fill(info["jwt_secret"])
    await form.locator("input[name=ca_cert]").fill(info["ca_cert"])


async def test_add_test_deploy_and_the_obvious_mistakes(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    with served_sandbox("marketing-cloud", tmp_path / "mc") as info:
        await page.goto(f"{server.url}/people")
        await page.get_by_label("Email").fill(ADMIN_EMAIL)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("link", name="Marketing Cloud").click()
        await expect(page).to_have_url(f"{server.url}/marketing-cloud")

        await page.locator("#add-unit input[name=auth_url]").fill("")
        await page.get_by_role("button", name="Add business unit").click()
        for field, says in (
            ("name", "needs a name"),
            ("mid", "the MID is empty"),
            ("client_id", "the client id is empty"),
            ("client_secret", "the client secret is empty"),
            ("auth_url", "the authentication base URI is empty"),
        ):
            await expect(page.locator(f'[data-error-for="{field}"]')).to_contain_text(says)
        await page.screenshot(path=ARTIFACTS / "mc-01-empty-form.png", full_page=True)

        await _fill(page, info, "acme")
        await page.get_by_role("button", name="Add business unit").click()
        await expect(page).to_have_url(f"{server.url}/marketing-cloud/acme")
        message = page.locator('[data-endpoint="message"]')
        await expect(message).to_have_text(f"{server.url}/journey/acme/message/")
        await expect(page.locator('[data-endpoint="reports_config"]')).to_have_text(
            f"{server.url}/journey/acme/reports/config.json"
        )
        content = await page.content()
        assert info["client_secret"] not in content and info["jwt_secret"] not in content

        await page.get_by_role("button", name="Test connection").click()
        result = page.locator("#connection-result")
        await expect(result).to_have_attribute("data-ok", "true")
        await expect(result).to_contain_text(f"connected to MID {info['mid']}")

        await page.get_by_role("button", name="Deploy data extensions").click()
        rows = page.locator("#deployed tr[data-extension]")
        await expect(rows).to_have_count(5)
        await expect(page.locator("#deployed [data-status]")).to_have_text(["created"] * 5)
        await page.screenshot(path=ARTIFACTS / "mc-02-deployed.png", full_page=True)
        await page.get_by_role("button", name="Deploy data extensions").click()
        await expect(page.locator("#deployed [data-status]")).to_have_text(["unchanged"] * 5)

        # a wrong secret saved through the edit form: the test says so clearly
        await page.locator("#edit-unit input[name=client_secret]").fill("not-the-secret")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.get_by_role("status").first).to_have_text("Settings saved.")
        await page.get_by_role("button", name="Test connection").click()
        await expect(result).to_have_attribute("data-ok", "false")
        await expect(result).to_contain_text("credentials refused")

        await page.get_by_role("link", name="All business units").click()
        await _fill(page, info, "acme")
        await page.get_by_role("button", name="Add business unit").click()
        await expect(page.locator('[data-error-for="name"]')).to_contain_text("exists")
        await page.locator("#add-unit input[name=name]").fill("acme-two")
        await page.locator("#add-unit input[name=client_secret]").fill(info["client_secret"])
        await page.get_by_role("button", name="Add business unit").click()
        await expect(page.locator('[data-error-for="mid"]')).to_contain_text("belongs to")

        await page.goto(f"{server.url}/marketing-cloud/acme")
        await page.get_by_role("button", name="Remove business unit").click()
        await expect(page.locator("[data-confirm]")).to_contain_text("Remove it anyway?")
        await page.get_by_role("button", name="Yes, remove it").click()
        await expect(page).to_have_url(f"{server.url}/marketing-cloud?removed=acme")
        await expect(page.locator("tr[data-unit]")).to_have_count(0)
    # the refused forms answer 422, the confirmation 409 (the favicon 404): no script error
    assert not [p for p in problems if not any(code in p for code in ("404", "409", "422"))]
    await context.close()
