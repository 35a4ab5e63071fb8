"""In Chromium: import a CSV (a bad row is reported by row and field, the rest is imported),
filter the People list by an attribute, save it as a segment and see its member count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server

CSV = """First Name,Last Name,Email,City,Shoe size
Ada,Lovelace,ada@example.com,London,38
Bad,Row,not-an-email,Paris,40
Alan,Turing,alan@example.com,Manchester,44
Grace,Hopper,grace@example.com,London,37
"""


async def test_import_then_save_a_segment(server: Server, browser: Any, tmp_path: Path) -> None:
    upload = tmp_path / "people.csv"
    upload.write_text(CSV, encoding="utf-8")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    await page.goto(f"{server.url}/login?next=/imports")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}/imports")
    await page.get_by_label("File").set_input_files(upload)
    await page.screenshot(path=ARTIFACTS / "people-area-0-import-upload.png")
    await page.get_by_role("button", name="Upload and check").click()

    await expect(page.get_by_role("heading", name="Import people: map and check")).to_be_visible()
    await expect(page.get_by_label("Attribute for column First Name")).to_have_value("first_name")
    await expect(page.get_by_label("Attribute for column Shoe size")).to_have_value("")
    bad_row = page.locator('tr[data-row="3"]')
    await expect(bad_row).to_contain_text("emails[0]")
    await expect(page.locator("[data-created]")).to_have_text("3")
    await page.screenshot(path=ARTIFACTS / "people-area-1-import-check.png", full_page=True)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    await expect(page.locator("[data-created]")).to_have_text("3")
    await expect(page.locator("[data-rejected]")).to_have_text("1")
    await page.screenshot(path=ARTIFACTS / "people-area-2-import-done.png", full_page=True)

    await page.get_by_role("link", name="Open People").click()
    await expect(page.locator("table.list tbody tr")).to_have_count(3)
    await page.get_by_label("Filter 1 attribute").select_option("city")
    await page.get_by_label("Filter 1 operator").select_option("equals")
    await page.get_by_label("Filter 1 value").fill("london")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("#people-rows tbody tr")
    await expect(rows).to_have_count(2)
    await page.screenshot(path=ARTIFACTS / "people-area-3-people-filtered.png", full_page=True)

    await page.get_by_role("link", name="Save as segment").click()
    await expect(page.get_by_label("Filter 1 value")).to_have_value("london")
    await page.get_by_label("Segment name").fill("Londoners")
    await page.get_by_role("button", name="Save segment").click()
    await expect(page.get_by_role("heading", name="Segment: Londoners")).to_be_visible()
    await expect(page.locator("[data-segment-count]")).to_contain_text("2 persons")
    await expect(rows).to_have_count(2)
    await page.screenshot(path=ARTIFACTS / "people-area-4-segment.png", full_page=True)

    await page.get_by_role("navigation", name="People").get_by_role("link", name="Segments").click()
    segment_row = page.locator('tr[data-segment="Londoners"]')
    await expect(segment_row.locator("[data-count]")).to_have_text("2")  # loaded by htmx
    await page.screenshot(path=ARTIFACTS / "people-area-5-segments.png")
    await context.close()
    assert not [p for p in problems if "404" not in p], problems

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        segments = (await api.get("/api/v1/segments")).json()["items"]
        assert [s["name"] for s in segments] == ["Londoners"]
        members = await api.get("/api/v1/persons", params={"segment": segments[0]["id"]})
        assert sorted(p["standard"]["first_name"] for p in members.json()["items"]) == [
            "Ada",
            "Grace",
        ]
