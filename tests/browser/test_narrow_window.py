"""In Chromium at 800 px wide: the People list's table scrolls inside its own box and the page
never scrolls sideways."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server

# The page's horizontal overflow, and each table's right edge beyond its nearest box that
# scrolls sideways (or the page when none does).
MEASURE = """() => {
  const page = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  const tables = [...document.querySelectorAll('table')].map((table) => {
    let box = table.parentElement;
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      box = box.parentElement;
    }
    return box ? 0 : Math.max(0, table.getBoundingClientRect().right - window.innerWidth);
  });
  return {page, tables};
}"""


async def test_at_800_px_tables_scroll_within_their_box(server: Server, browser: Any) -> None:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        for n in range(3):
            created = await api.post(
                "/api/v1/persons",
                json={
                    "values": {
                        "first_name": f"Bartholomew-Maximilian {n}",
                        "last_name": "Vandenberghe-Oppenheimer",
                        "city": "Sankt Wolfgang im Salzkammergut",
                        "company": "International Business Machines of Upper Austria",
                    },
                    "emails": [f"bartholomew.maximilian.{n}@vandenberghe-oppenheimer.example"],
                    "phones": ["+442071234567"],
                },
            )
            assert created.status_code == 201, created.text

    context = await browser.new_context(viewport={"width": 800, "height": 900})
    page = await context.new_page()
    await page.goto(f"{server.url}/login?next=/people")
    await page.get_by_label("Email").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("table.list tbody tr")).to_have_count(3)
    await page.screenshot(path=ARTIFACTS / "narrow-people.png", full_page=True)
    measured = await page.evaluate(MEASURE)
    assert measured == {"page": 0, "tables": [0]}, measured
    await context.close()
