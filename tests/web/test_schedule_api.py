"""A step's schedule through the API (read for viewers, change for admins, 422 naming the
field), and each step's schedule and next run on the status API and page."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.schedule import Schedule
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.store import StatusStore
from tests.web.test_api import error_of
from tests.web.test_pages import admin_browser, csrf_of

__all__ = ["admin_browser"]  # fixture: a logged-in admin's browser session

STEPS = "/api/v1/integrations/default/steps"


async def test_viewers_read_schedules_and_admins_change_them(
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    store: SqlPeopleStore,
    clock: ManualClock,
) -> None:
    read = (await viewer.get(f"{STEPS}/Lead/schedule")).json()
    assert read["schedule"] == {"kind": "realtime", "every": 15}
    assert read["default"] is True
    assert read["next_run"] == clock.now().isoformat()  # never ran: due at once
    refused = await viewer.put(f"{STEPS}/Lead/schedule", json={"kind": "manual"})
    assert refused.status_code == 403
    await StatusStore(store.engine, clock).mark_synced("default", "Lead", clock.now())
    saved = await admin.put(f"{STEPS}/Lead/schedule", json={"kind": "minutes", "every": 15})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["describe"], body["changed"]) == ("every 15 minutes", ["Lead"])
    assert body["next_run"] == (clock.now() + timedelta(minutes=15)).isoformat()
    assert (await load_profile(store)).step("Lead").schedule == Schedule.minutes(15)
    pushed = await admin.put(f"{STEPS}/Person to Lead/schedule", json={"kind": "manual"})
    assert pushed.json()["changed"] == ["Person to Lead", "Person to Contact"]
    assert pushed.json()["next_run"] is None
    reset = await admin.delete(f"{STEPS}/Lead/schedule")
    assert reset.json()["default"] is True
    assert (await load_profile(store)).step("Lead").schedule is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "weekly"}, "schedule.kind"),
        ({"kind": "minutes"}, "schedule.every"),
        ({"kind": "hours", "every": 0}, "schedule.every"),
        ({"kind": "daily", "at": "7 am"}, "schedule.at"),
        ({"kind": "daily", "at": "07:00", "timezone": "Nowhere/Else"}, "schedule.timezone"),
    ],
)
async def test_bad_schedules_are_422_naming_the_field(
    admin: httpx.AsyncClient, store: SqlPeopleStore, body: dict[str, object], field: str
) -> None:
    response = await admin.put(f"{STEPS}/Lead/schedule", json=body)
    assert response.status_code == 422
    assert error_of(response)["field"] == field
    assert (await load_profile(store)).step("Lead").schedule is None


async def test_unknown_steps_and_keys_are_refused(admin: httpx.AsyncClient) -> None:
    missing = await admin.put(f"{STEPS}/Nope/schedule", json={"kind": "manual"})
    assert missing.status_code == 404
    assert error_of(missing)["field"] == "step"
    extra = await admin.put(f"{STEPS}/Lead/schedule", json={"kind": "manual", "often": 1})
    assert extra.status_code == 422


async def test_status_shows_each_steps_schedule_and_next_run(
    admin: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    await store.set_state("integration:default", {"login_url": "https://org.example.com"})
    await admin.put(f"{STEPS}/Account/schedule", json={"kind": "daily", "at": "23:15"})
    status = (await admin.get("/api/v1/integrations/default/status")).json()
    rows = {row["step"]: row for row in status["schedules"]}
    assert rows["Account"]["describe"] == "daily at 23:15 UTC"
    assert rows["Account"]["next_run"] == clock.now().replace(hour=23, minute=15).isoformat()
    assert rows["Person to Lead"]["describe"] == "real time (as People changes)"


async def test_status_page_shows_schedules(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await store.set_state("integration:default", {"login_url": "https://org.example.com"})
    await _post_schedule(admin_browser, "Account", kind="daily", at="23:15")
    page = await admin_browser.get("/salesforce/status")
    assert page.status_code == 200
    assert "daily at 23:15 UTC" in page.text
    assert 'data-schedule="Account"' in page.text


async def _post_schedule(http: httpx.AsyncClient, step: str, **values: str) -> httpx.Response:
    page = await http.get("/salesforce/default/steps")
    form = {"csrf_token": csrf_of(page.text), **values}
    return await http.post(f"/salesforce/default/steps/{step}/schedule", data=form)


async def test_steps_page_schedule_control_saves_and_shows_field_errors(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    page = await admin_browser.get("/salesforce/default/steps")
    assert 'data-schedule-cell="Lead"' in page.text
    assert "real time (default)" in page.text
    saved = await _post_schedule(admin_browser, "Lead", kind="minutes", every="30")
    assert saved.status_code == 303
    shown = await admin_browser.get(saved.headers["location"])
    assert "every 30 min" in shown.text
    assert (await load_profile(store)).step("Lead").schedule == Schedule.minutes(30)
    empty = await _post_schedule(admin_browser, "Lead", kind="minutes", every="")
    assert empty.status_code == 422
    assert 'data-field-error="every"' in empty.text
    assert "step &#39;Lead&#39;, field schedule.every" in empty.text
    bad = await _post_schedule(admin_browser, "Contact", kind="daily", at="9h", timezone="Moon")
    assert bad.status_code == 422
    assert 'data-field-error="at"' in bad.text and 'data-field-error="timezone"' in bad.text
    assert 'value="9h"' in bad.text  # what was typed stays in the form
    profile = await load_profile(store)
    assert profile.step("Lead").schedule == Schedule.minutes(30)  # nothing else changed
    assert profile.step("Contact").schedule is None
