"""In Chromium, against a served sandbox org: review the steps, open the Lead mapping, change a
line's mode, save, see it persisted; a bad filter condition is flagged while typing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server
from tests.served_org import connect, environment, served_org


def _connect(info: dict[str, Any], data_dir: Path) -> None:
    """Connect the org into the server's data directory (as `salesforce connect` does)."""
    env = environment(info, data_dir)
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    connect(info, env)


async def test_review_and_edit_a_mapping(server: Server, browser: Any, tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "5") as info:
        _connect(info, tmp_path / "data")  # the server's data directory (see conftest)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        await page.goto(f"{server.url}/salesforce/default/steps")
        await page.get_by_label("Email").fill(ADMIN_EMAIL)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(f"{server.url}/salesforce/default/steps")
        await expect(page.locator("tr[data-step]")).to_have_count(5)
        await expect(page.locator("[data-profile]")).to_contain_text("Default profile")
        await page.screenshot(path=ARTIFACTS / "steps-01-steps.png", full_page=True)

        await page.get_by_role("link", name="Person to Lead").click()
        await expect(page.locator('[data-required="LastName"]')).to_be_visible()
        await page.screenshot(path=ARTIFACTS / "steps-02-person-to-lead.png", full_page=True)

        await page.goto(f"{server.url}/salesforce/default/steps")
        await page.get_by_role("link", name="Lead", exact=True).click()
        city = page.locator('tr[data-field="City"] select[name^="mode_"]')
        await expect(city).to_have_value("overwrite")
        await city.select_option(label="Fill (only empty)")
        await page.screenshot(path=ARTIFACTS / "steps-03-lead-mapping.png", full_page=True)
        await page.get_by_role("button", name="Save mapping").click()
        await expect(page.get_by_role("status")).to_contain_text("re-reads all its records")
        await page.reload()
        await expect(page.locator('tr[data-field="City"] select[name^="mode_"]')).to_have_value(
            "fill"
        )

        condition = page.get_by_label("SOQL condition")
        await condition.fill("Sauce__c = 'hot'")
        error = page.locator('[data-error-for="filter.condition"]')
        await expect(error).to_contain_text("INVALID_FIELD")  # htmx asked the org while typing
        await page.screenshot(path=ARTIFACTS / "steps-04-filter-live-error.png", full_page=True)
        await condition.fill("LeadSource = 'Web'")
        await expect(error).to_have_count(0)
        await page.get_by_role("button", name="Save filter").click()
        await expect(page.get_by_role("status")).to_contain_text("Saved.")
        await context.close()
        assert not [p for p in problems if "404" not in p], problems  # no favicon

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        steps = (await api.get("/api/v1/integrations/default/steps")).json()
        assert steps["profile"] == "custom"
        lead = next(s for s in steps["steps"] if s["name"] == "Lead")
        assert lead["filter"] == {"condition": "LeadSource = 'Web'"}
        city_line = next(line for line in lead["mapping"] if line["field"] == "City")
        assert city_line["mode"] == "fill"


async def test_the_account_mapping_shows_company_fields_whole(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "1") as info:
        _connect(info, tmp_path / "data")
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(f"{server.url}/salesforce/default/steps/Account")
        await page.get_by_label("Email").fill(ADMIN_EMAIL)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(f"{server.url}/salesforce/default/steps/Account")
        await expect(page.locator("tr[data-line]")).to_have_count(7)
        await expect(page.locator("[data-create]")).to_have_count(0)  # no bogus attributes
        await expect(page.get_by_text("not in People")).to_have_count(0)
        await page.screenshot(path=ARTIFACTS / "steps-05-account-mapping.png", full_page=True)

        # Every Salesforce field and company field shows whole in its box.
        boxes = page.locator('input[name^="field_"], input[name^="attribute_"]')
        clipped = await boxes.evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.value)"
        )
        assert clipped == []
        assert "NumberOfEmployees" in await boxes.evaluate_all("els => els.map(e => e.value)")
        # ... and the table fits its card at this width (it scrolls only in narrow windows).
        widths = await page.locator(".table-scroll").evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1], widths

        await page.get_by_role("button", name="Save mapping").click()
        await expect(page.get_by_role("status")).to_contain_text("Saved.")
        await context.close()
