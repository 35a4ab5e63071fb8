"""In Chromium: log in, search a person, open the person page, edit the city, see it saved."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server


async def test_log_in_search_open_and_edit_a_person(server: Server, browser: Any) -> None:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        for first, last, email, city in [
            ("Ada", "Lovelace", "ada@example.com", "London"),
            ("Alan", "Turing", "alan@example.com", "Manchester"),
            ("Grace", "Hopper", "grace@example.com", "Arlington"),
        ]:
            created = await api.post(
                "/api/v1/persons",
                json={
                    "values": {"first_name": first, "last_name": last, "city": city},
                    "emails": [email],
                },
            )
            assert created.status_code == 201, created.text

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    await page.goto(f"{server.url}/people")
    await expect(page).to_have_url(f"{server.url}/login?next=/people")
    await page.screenshot(path=ARTIFACTS / "01-login.png")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}/people")
    await expect(page.locator("table.list tbody tr")).to_have_count(3)
    await page.screenshot(path=ARTIFACTS / "02-people.png")

    await page.get_by_role("searchbox", name="Search people").fill("love")
    rows = page.locator("#people-rows tbody tr")
    await expect(rows).to_have_count(1)  # htmx swapped the rows in while typing
    await expect(rows.first).to_contain_text("ada@example.com")
    await page.screenshot(path=ARTIFACTS / "03-search.png")

    await page.get_by_role("link", name="Ada Lovelace").click()
    await expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    await expect(page.locator('dd[data-field="city"]')).to_have_text("London")
    await page.screenshot(path=ARTIFACTS / "04-person.png", full_page=True)

    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Birth date").fill("")
    await page.get_by_label("City").fill("Paris")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    await expect(page.locator('dd[data-field="city"]')).to_have_text("Paris")
    await page.screenshot(path=ARTIFACTS / "05-person-saved.png", full_page=True)

    await page.goto(f"{server.url}/salesforce/status")
    await expect(page.get_by_text("No Salesforce integration")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "06-salesforce-status.png")
    await context.close()
    assert not [p for p in problems if "404" not in p], problems

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        ada = (await api.get("/api/v1/persons", params={"q": "ada"})).json()["items"][0]
        assert ada["standard"]["city"] == "Paris"
