"""Seed 000's walkthrough end to end, with real processes and Chromium: the sandbox org over
HTTPS and `peoplesync serve` with its sync workers. Log in, connect the org through the real
OAuth redirect, review the default mapping, create a Lead in the org's UI (Leads > New) and see
the person arrive in People, edit the person's city in People and see the workers push it to
the Lead, then pause and resume the integration on its status page."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS
from tests.served_org import PEOPLESYNC, served_org

ARRIVAL = 90.0  # seconds a change may take between the org and People (the seed: "up to two
# minutes"; the workers poll every few seconds here and follow the change streams)
LOG_TAIL = 4000


@dataclass(frozen=True)
class Serve:
    """`peoplesync serve` with its workers, and what it has printed so far."""

    url: str
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self) -> str:
        return self.text()[-LOG_TAIL:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(data_dir: Path) -> Iterator[Serve]:
    """A fresh data directory with a SQLite store and an admin, served WITH the sync workers."""
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(data_dir),
        "PEOPLESYNC_USER_PASSWORD": ADMIN_PASSWORD,
        "PEOPLESYNC_DEFAULT_PHONE_REGION": "US",
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    subprocess.run(
        [*PEOPLESYNC, "users", "add", ADMIN_EMAIL, "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    port = _free_port()
    served = Serve(f"http://127.0.0.1:{port}", data_dir.parent / "serve.log")
    with served.log.open("w") as log:
        process = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--sync-interval", "3"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{served.url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"peoplesync serve did not come up:\n{served.tail()}")
                time.sleep(0.2)
            yield served
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def _until(
    what: str, check: Callable[[], Awaitable[bool]], serve: Serve, *, within: float = ARRIVAL
) -> float:
    """Call ``check`` every 2 s until it is true; fail naming ``what`` (with the serve log's
    tail) after ``within`` seconds. Returns the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(
                f"{what}: not seen within {within:.0f} s\n"
                f"--- peoplesync serve output (tail) ---\n{serve.tail()}"
            )
        await asyncio.sleep(2.0)
    return time.monotonic() - started


async def test_seed_000_walkthrough(tmp_path: Path, browser: Any) -> None:
    with (
        served_org(tmp_path / "org", "--seed-leads", "3") as org,
        serving(tmp_path / "data") as serve,
    ):
        try:
            await _walk(org, serve, browser)
        except (AssertionError, PlaywrightError) as error:
            if "peoplesync serve output" in str(error):
                raise
            raise AssertionError(
                f"{error}\n--- peoplesync serve output (tail) ---\n{serve.tail()}"
            ) from error


async def _walk(org: dict[str, Any], serve: Serve, browser: Any) -> None:
    viewport = {"width": 1200, "height": 800}
    # both reach the org, whose certificate comes from its own CA
    people_ctx = await browser.new_context(viewport=viewport, ignore_https_errors=True)
    sf_ctx = await browser.new_context(viewport=viewport, ignore_https_errors=True)
    app = await people_ctx.new_page()
    sf = await sf_ctx.new_page()
    problems: list[str] = []
    for page in (app, sf):
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    # 1. Log in to peoplesync.
    await app.goto(f"{serve.url}/salesforce")
    await expect(app).to_have_url(f"{serve.url}/login?next=/salesforce")
    await app.get_by_label("Email").fill(ADMIN_EMAIL)
    await app.get_by_label("Password").fill(ADMIN_PASSWORD)
    await app.screenshot(path=ARTIFACTS / "walk-01-login.png")
    await app.get_by_role("button", name="Log in").click()
    await expect(app).to_have_url(f"{serve.url}/salesforce")
    await expect(app.get_by_text("No integration yet.")).to_be_visible()

    # 2. Apps > Salesforce > Add integration: the real OAuth redirect and the org's consent.
    await app.get_by_role("link", name="Add integration").click()
    await app.get_by_label("Environment").select_option("custom")
    await app.get_by_role("textbox", name="Custom login URL").fill(org["login_url"])
    await app.get_by_role("textbox", name="CA certificate file").fill(org["ca_cert"])
    await app.get_by_role("textbox", name="Client id").fill(org["client_id"])
    await app.locator('input[name="client_secret"]').fill(org["client_secret"])
    await app.screenshot(path=ARTIFACTS / "walk-02-connect.png")
    await app.get_by_role("button", name="Connect to Salesforce").click()
    await expect(app.get_by_role("heading", name="Allow access?")).to_be_visible()
    assert app.url.startswith(org["login_url"] + "/services/oauth2/authorize?"), app.url
    await app.screenshot(path=ARTIFACTS / "walk-03-consent.png")
    await app.get_by_role("button", name="Allow").click()
    await expect(app).to_have_url(f"{serve.url}/salesforce?connected=default")
    row = app.locator('tr[data-integration="default"]')
    await expect(row.locator("td[data-state]")).to_have_attribute("data-state", "active")
    await expect(row).to_contain_text(org["instance_url"])
    await app.screenshot(path=ARTIFACTS / "walk-04-connected.png")

    # 3. Mapping: the default profile, and Person -> Lead carries the city.
    await app.goto(f"{serve.url}/salesforce/default/steps")
    await expect(app.locator("[data-profile]")).to_have_attribute("data-profile", "default")
    for step in ("Lead", "Contact", "Person to Lead"):
        await expect(app.locator(f'tr[data-step="{step}"]')).to_be_visible()
    await app.screenshot(path=ARTIFACTS / "walk-05-steps.png", full_page=True)
    await app.locator('tr[data-step="Person to Lead"]').get_by_role("link").first.click()
    await expect(app.get_by_role("heading", name="Step: Person to Lead")).to_be_visible()
    city_line = app.locator('table.mapping tr[data-field="City"]')
    await expect(city_line).to_have_count(1)
    await expect(city_line.locator('input[name^="attribute_"]')).to_have_value("city")
    await app.screenshot(path=ARTIFACTS / "walk-06-mapping.png")

    # 3b. Outbound starts off until reviewed (issue 12): switch both outbound steps on.
    await app.goto(f"{serve.url}/salesforce/default/steps")
    await expect(app.locator("[data-awaiting-review]")).to_contain_text("push run --preview")
    for step in ("Person to Lead", "Person to Contact"):
        await expect(app.locator(f'[data-review="{step}"]')).to_be_visible()
        await app.get_by_role("button", name=f"Enabled {step}").click()
        await expect(app.locator(f'[data-review="{step}"]')).to_have_count(0)
    await expect(app.locator("[data-awaiting-review]")).to_have_count(0)

    # 4. People does not know the person yet (the seed: check first).
    email = "ada.walk@engines.example"
    await app.goto(f"{serve.url}/people?q=ada.walk")
    await expect(app.locator("#people-rows")).to_contain_text("Nobody matches")

    # 5. In Salesforce (as the org's user), Leads > New.
    await sf.goto(f"{org['instance_url']}/lightning/page/home")
    await sf.get_by_label("Username").fill(org["username"])
    await sf.get_by_label("Password").fill(org["password"])
    await sf.get_by_role("button", name="Log In").click()
    await expect(sf.get_by_role("heading", name="Leads")).to_be_visible()
    await sf.get_by_role("link", name="Leads", exact=True).click()
    await sf.get_by_role("link", name="New", exact=True).click()
    await expect(sf.get_by_role("heading", name="New Lead")).to_be_visible()
    await sf.get_by_label("First Name").fill("Ada")
    await sf.get_by_label("Last Name").fill("Walker")
    await sf.get_by_label("Company").fill("Analytical Engines")
    await sf.get_by_label("Email").fill(email)
    await sf.get_by_label("City").fill("London")
    await sf.screenshot(path=ARTIFACTS / "walk-07-new-lead.png", full_page=True)
    await sf.get_by_role("button", name="Save").click()
    await expect(sf.get_by_role("status")).to_have_text('Lead "Ada Walker" was created.')
    found = re.search(r"/lightning/r/Lead/([A-Za-z0-9]{18})/view", sf.url)
    assert found, f"the new Lead's page has no record address: {sf.url}"
    lead_id = found.group(1)

    # 6. People: refresh the list until the person is there (the workers bring it).
    async def person_listed() -> bool:
        await app.goto(f"{serve.url}/people?q=ada.walk")
        return await app.locator("#people-rows tbody tr", has_text=email).count() == 1

    await _until(f"the Lead {lead_id} as a person in People", person_listed, serve)
    listed = app.locator("#people-rows tbody tr", has_text=email)
    await expect(listed).to_contain_text("London")
    await app.goto(f"{serve.url}/people")
    await app.screenshot(path=ARTIFACTS / "walk-08-people.png")

    # 7. Open the person, check the link to the Lead, edit the city.
    await app.goto(f"{serve.url}/people?q=ada.walk")
    await app.get_by_role("link", name="Ada Walker").click()
    await expect(app.get_by_role("heading", name="Ada Walker")).to_be_visible()
    await expect(app.locator('dd[data-field="city"]')).to_have_text("London")
    link = app.get_by_role("link", name=re.compile(lead_id[:15]))
    await expect(link).to_have_count(1)
    href = await link.get_attribute("href")
    assert href is not None and href.startswith(org["instance_url"] + "/"), href
    await app.screenshot(path=ARTIFACTS / "walk-09-person.png", full_page=True)
    await app.get_by_role("link", name="Edit").click()
    await app.get_by_label("City").fill("Paris")
    await app.get_by_role("button", name="Save").click()
    await expect(app.get_by_role("heading", name="Ada Walker")).to_be_visible()
    await expect(app.locator('dd[data-field="city"]')).to_have_text("Paris")
    await app.screenshot(path=ARTIFACTS / "walk-10-person-saved.png", full_page=True)

    # 8. The Lead (opened from the person page's link) shows the new city once pushed.
    await sf.goto(href)
    await expect(sf).to_have_url(f"{org['instance_url']}/lightning/r/Lead/{lead_id}/view")
    await expect(sf.get_by_role("heading", name="Ada Walker")).to_be_visible()

    async def lead_moved() -> bool:
        await sf.reload()
        return (await sf.locator('dd[data-field="City"]').inner_text()).strip() == "Paris"

    await _until(f"the city Paris on the Lead {lead_id}", lead_moved, serve)
    await sf.screenshot(path=ARTIFACTS / "walk-11-lead-updated.png", full_page=True)

    # 9. Status page: pause, see paused, resume.
    await app.goto(f"{serve.url}/salesforce/status?name=default")
    state = app.locator("p[data-state]")
    await expect(state).to_have_attribute("data-state", "active")
    await expect(app.locator("svg.chart[aria-label='API calls per day']")).to_be_visible()
    await app.screenshot(path=ARTIFACTS / "walk-12-status.png", full_page=True)
    await app.get_by_role("button", name="Pause").click()
    await expect(state).to_have_attribute("data-state", "paused")
    await expect(app.get_by_role("button", name="Resume")).to_be_visible()
    await app.screenshot(path=ARTIFACTS / "walk-13-paused.png")

    async def workers_stopped() -> bool:
        return "stopped (the integration may not run now)" in serve.text()

    await _until("the workers stopping after the pause", workers_stopped, serve, within=30)
    await app.get_by_role("button", name="Resume").click()
    await expect(state).to_have_attribute("data-state", "active")
    await expect(app.get_by_role("button", name="Pause")).to_be_visible()

    await people_ctx.close()
    await sf_ctx.close()
    assert not [p for p in problems if "404" not in p], problems
