"""In Chromium: the Steps page's schedule control shows a field error for empty input, then
saves a valid schedule and shows it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server


async def test_schedule_control_flags_empty_input_then_saves(server: Server, browser: Any) -> None:
    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{server.url}/salesforce/default/steps")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    lead = page.locator('[data-schedule-cell="Lead"]')
    await expect(lead.locator("[data-schedule-text]")).to_have_text("real time (default)")

    await page.get_by_label("Schedule of Lead", exact=True).select_option(label="Every N minutes")
    await page.get_by_role("button", name="Save the schedule of Lead").click()
    lead = page.locator('[data-schedule-cell="Lead"]')
    await expect(lead.locator('[data-field-error="every"]')).to_contain_text("none was given")
    await expect(lead.locator('input[name="every"]')).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path=ARTIFACTS / "schedule-01-error.png", full_page=True)

    await page.get_by_label("Every N (minutes, hours, or real time's poll minutes) for Lead").fill(
        "15"
    )
    await page.get_by_role("button", name="Save the schedule of Lead").click()
    lead = page.locator('[data-schedule-cell="Lead"]')
    await expect(lead.locator("[data-schedule-text]")).to_have_text("every 15 min")
    await expect(lead.locator("[data-field-error]")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / "schedule-02-saved.png", full_page=True)
    await context.close()
