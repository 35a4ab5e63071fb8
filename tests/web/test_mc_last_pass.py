"""A business unit's last report write-back pass, as the unit's page, the REST API and
/metrics show it (on SQLite and PostgreSQL): rows per kind and events, or the error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from peoplesync.clock import ManualClock
from peoplesync.marketing_cloud.last_pass import LastPass, LastPasses
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import ADMIN_EMAIL, ClientFactory, Users
from tests.web.test_operations import app_on, http, samples
from tests.web.test_pages import log_in

UNITS = "/api/v1/marketing-cloud/units"


def body(name: str, mid: str) -> dict[str, str]:
    return {
        "name": name,
        "mid": mid,
        "client_id": "client-1",
        "client_secret": "client-secret-never-shown",
        "auth_url": "https://acme.auth.example",
    }


async def test_the_page_and_the_api_show_the_last_pass(
    admin: httpx.AsyncClient,
    client: ClientFactory,
    users: Users,
    store: SqlPeopleStore,
    clock: ManualClock,
) -> None:
    for name, mid in (("acme", "510000042"), ("beta", "510000043"), ("new", "510000044")):
        assert (await admin.post(UNITS, json=body(name, mid))).status_code == 201
    passes = LastPasses(store.engine, clock)
    written = {"sms": 3, "omni": 1, "clicks": 0, "inbound": 2}
    await passes.record(LastPass("acme", clock.now(), written, 2, 1, by="serve"))
    await passes.record(LastPass("beta", clock.now(), error="HTTP 500 from the sandbox"))
    clock.advance(timedelta(seconds=30))
    await passes.record(LastPass("acme", clock.now(), {**written, "sms": 4}, 0, by="worker"))

    acme = (await admin.get(f"{UNITS}/acme")).json()["last_pass"]
    assert acme["written"]["sms"] == 4 and acme["by"] == "worker" and acme["error"] is None
    assert acme["at"] == clock.now().isoformat()
    beta = (await admin.get(f"{UNITS}/beta")).json()["last_pass"]
    assert beta["error"] == "HTTP 500 from the sandbox"
    assert (await admin.get(f"{UNITS}/new")).json()["last_pass"] is None

    browser = client()
    assert (await log_in(browser, ADMIN_EMAIL)).status_code == 303
    page = (await browser.get("/marketing-cloud/acme")).text
    assert '<dd data-written="sms">4</dd>' in page and "<dd data-events>0</dd>" in page
    assert "(worker)" in page
    assert "The counts below are of its last pass only" in page  # not the rows in total
    failed = (await browser.get("/marketing-cloud/beta")).text
    assert "Failed: HTTP 500 from the sandbox" in failed
    assert "No pass has run yet." in (await browser.get("/marketing-cloud/new")).text


async def test_metrics_show_each_units_last_pass(
    store: SqlPeopleStore, clock: ManualClock, tmp_path: Path
) -> None:
    passes = LastPasses(store.engine, clock)
    written = {"sms": 3, "omni": 1, "clicks": 0, "inbound": 2}
    await passes.record(LastPass("acme", clock.now(), written, 2, by="serve"))
    await passes.record(LastPass("beta", clock.now(), error="HTTP 500"))
    app = app_on(store, tmp_path, metrics_public=True)
    async with http(app) as scraper:
        found = samples((await scraper.get("/metrics")).text)
    acme = (("unit", "acme"),)
    assert found[("peoplesync_mc_report_last_pass_rows", (("kind", "sms"), ("unit", "acme")))] == 3
    assert found[("peoplesync_mc_report_last_pass_events", acme)] == 2
    assert found[("peoplesync_mc_report_last_pass_failed", acme)] == 0
    assert found[("peoplesync_mc_report_last_pass_failed", (("unit", "beta"),))] == 1
    stamp = found[("peoplesync_mc_report_last_pass_timestamp_seconds", acme)]
    assert stamp == clock.now().timestamp()
