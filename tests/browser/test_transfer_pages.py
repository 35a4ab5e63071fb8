"""In Chromium, against a served sandbox org connected to `peoplesync serve`: preview a
transfer, start it and watch its progress reach done (htmx polling), then see the status page
with the calls chart and the error a bad Lead caused, and find that record in the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Server
from tests.served_org import call, connect, environment, login, served_org


def _connect(info: dict[str, Any], data_dir: Path) -> None:
    """Connect the org into the server's data directory (as `salesforce connect` does)."""
    env = environment(info, data_dir)
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    connect(info, env)


async def test_preview_and_run_a_transfer_then_see_the_status(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "40", "--seed-contacts", "25") as info:
        bad = call(
            info,
            "/services/data/v59.0/sobjects/Lead/",
            login(info),
            body={"LastName": "Unreachable", "Company": "Acme", "Phone": "call me maybe"},
        )["id"]
        _connect(info, tmp_path / "data")  # the server fixture's data directory

        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        await page.goto(f"{server.url}/login?next=/salesforce/default/transfer")
        await page.get_by_label("Email").fill(ADMIN_EMAIL)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(f"{server.url}/salesforce/default/transfer")
        await page.screenshot(path=ARTIFACTS / "10-transfer.png", full_page=True)

        # A bad filter is refused next to its field; nothing runs.
        await page.get_by_label("SOQL filter").fill("Name = 'x' LIMIT 5")
        await page.get_by_role("button", name="Preview").click()
        await expect(page.locator('[data-error-for="filter"]')).to_be_visible()
        await page.get_by_label("SOQL filter").fill("")

        await page.get_by_role("button", name="Preview").click()
        preview = page.get_by_role("region", name="Preview")
        await expect(preview).to_contain_text("nothing was written")
        await expect(preview.locator('tr[data-step="Lead"] td').nth(1)).to_have_text("41")
        await expect(preview.locator('tr[data-step="Contact"] td').nth(1)).to_have_text("25")
        await page.screenshot(path=ARTIFACTS / "11-transfer-preview.png", full_page=True)

        await page.get_by_role("button", name="Start transfer").click()
        progress = page.locator("#progress")
        await expect(progress).to_have_attribute("data-state", "done", timeout=60_000)
        await expect(progress.locator('[data-count="read"]')).to_have_text("66")
        await expect(progress.locator('[data-count="total"]')).to_have_text("66")
        await expect(progress.locator('[data-count="rejected"]')).to_have_text("1")
        await expect(progress).to_contain_text(bad)
        await page.screenshot(path=ARTIFACTS / "12-transfer-done.png", full_page=True)

        await page.get_by_role("link", name="Status").click()
        await expect(page.locator("svg.chart[aria-label='API calls per day'] rect")).to_have_count(
            14
        )
        await expect(page.locator("svg.chart[aria-label='Records synced per day']")).to_be_visible()
        phone = page.locator('.problem[data-code="INVALID_PHONE"]')
        await expect(phone).to_contain_text(bad)
        await expect(phone).to_contain_text("How to fix")
        await expect(page.get_by_role("button", name="Retry failed records")).to_be_visible()
        await page.screenshot(path=ARTIFACTS / "13-status-after-transfer.png", full_page=True)

        await phone.get_by_role("link", name="All affected records").click()
        await expect(page.locator("#problems")).to_contain_text(bad)
        await page.get_by_label("Errors only").check()
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#operations")).to_contain_text("transfer")
        await page.screenshot(path=ARTIFACTS / "14-log.png", full_page=True)
        # the problems table stays inside its card and its message is readable, not a column
        # of single words squeezed by long codes
        fits = await page.evaluate(
            """() => {
                const table = document.querySelector('#problems');
                const card = table.closest('section').getBoundingClientRect();
                const message = table.querySelector('tbody td:nth-child(6)').getBoundingClientRect();
                return [table.getBoundingClientRect().right <= card.right, message.width];
            }"""
        )
        assert fits[0] and fits[1] >= 200, fits
        await context.close()
        # The refused filter answers 422 on purpose (the page with the error); nothing else.
        assert not [p for p in problems if "404" not in p and "422" not in p], problems

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        people = (await api.get("/api/v1/persons", params={"limit": 200})).json()["items"]
        assert len(people) >= 55  # some Leads share an email with a Contact


async def test_a_filtered_transfer_runs_only_the_chosen_steps(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "8", "--seed-contacts", "6") as info:
        token = login(info)
        for last in ("Atlas", "Poseidon"):
            body = {"LastName": last, "Company": "Deep Co", "Country": "Atlantis"}
            call(info, "/services/data/v59.0/sobjects/Lead/", token, body=body)
        _connect(info, tmp_path / "data")

        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(f"{server.url}/login?next=/salesforce/default/transfer")
        await page.get_by_label("Email").fill(ADMIN_EMAIL)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(f"{server.url}/salesforce/default/transfer")
        steps = page.get_by_role("group", name="Steps")
        boxes = steps.locator('input[name="steps"]')
        await expect(boxes).to_have_count(3)
        for box in await boxes.all():
            await expect(box).to_be_checked()  # every inbound step by default

        # Every step with a Lead field: refused before anything runs, naming step and field.
        await page.get_by_label("SOQL filter").fill("Country = 'Atlantis'")
        await page.get_by_role("button", name="Start transfer").click()
        error = page.locator('[data-error-for="filter"]')
        await expect(error).to_contain_text(
            "Country is not a field of Account (step Account to Company)"
        )
        await expect(error).to_contain_text("choose only the Lead step")
        await expect(error).not_to_contain_text("INVALID_FIELD")
        await expect(page.locator("#progress")).to_have_count(0)  # no job started
        await page.screenshot(path=ARTIFACTS / "15-transfer-filter-refused.png", full_page=True)

        await steps.locator('input[value="Account"]').uncheck()
        await steps.locator('input[value="Contact"]').uncheck()
        await page.get_by_role("button", name="Preview").click()
        preview = page.get_by_role("region", name="Preview")
        await expect(preview.locator("tbody tr")).to_have_count(1)
        await expect(preview.locator('tr[data-step="Lead"] td').nth(1)).to_have_text("2")
        await expect(steps.locator('input[value="Account"]')).not_to_be_checked()  # kept

        await page.get_by_role("button", name="Start transfer").click()
        progress = page.locator("#progress")
        await expect(progress).to_have_attribute("data-state", "done", timeout=60_000)
        await expect(progress.locator('[data-count="read"]')).to_have_text("2")
        await expect(progress.locator("tbody tr")).to_have_count(1)
        await expect(progress.locator("tbody tr td").first).to_have_text("Lead")
        await page.screenshot(path=ARTIFACTS / "16-transfer-lead-only.png", full_page=True)
        await context.close()

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        people = (await api.get("/api/v1/persons", params={"limit": 200})).json()["items"]
        assert sorted(p["standard"]["last_name"] for p in people) == ["Atlas", "Poseidon"]
