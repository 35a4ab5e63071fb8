"""The steps, mapping editor and filter pages against a served sandbox org: switches, add /
clone / remove, mapping saves with errors next to the line, creating a missing attribute,
live filter validation (htmx fragments) and what viewers may not do."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from peoplesync.people.attribute import AttributeType
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.mapping import Mode
from peoplesync.sync.profile.store import load_profile
from tests.web.conftest import ADMIN_EMAIL, VIEWER_EMAIL, ClientFactory, Users
from tests.web.steps_org import app, org
from tests.web.test_pages import csrf_of, log_in

__all__ = ["app", "org"]  # fixtures: the app connected to a served org
STEPS = "/salesforce/default/steps"


@pytest.fixture
async def admin_browser(client: ClientFactory, users: Users) -> httpx.AsyncClient:
    http = client()
    assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
    return http


@pytest.fixture
async def viewer_browser(client: ClientFactory, users: Users) -> httpx.AsyncClient:
    http = client()
    assert (await log_in(http, VIEWER_EMAIL)).status_code == 303
    return http


def _mapping_form(html: str) -> dict[str, str]:
    """The mapping editor's fields as the browser would send them."""
    form: dict[str, str] = {"csrf_token": csrf_of(html)}
    rows = int(re.search(r'name="rows" value="(\d+)"', html).group(1))  # type: ignore[union-attr]
    form["rows"] = str(rows)
    for i in range(rows):
        for key in ("field", "attribute"):
            found = re.search(rf'name="{key}_{i}" value="([^"]*)"', html)
            assert found, key
            form[f"{key}_{i}"] = found.group(1)
        for key in ("mode", "direction", "conflict"):
            select = re.search(rf'name="{key}_{i}".*?</select>', html, re.S)
            assert select
            chosen = re.search(r'<option value="([^"]+)" selected', select.group(0))
            assert chosen, (key, i)
            form[f"{key}_{i}"] = chosen.group(1)
        for key in ("create", "update"):
            if re.search(rf'name="{key}_{i}" value="1" checked', html):
                form[f"{key}_{i}"] = "1"
    return form


def _line(form: dict[str, str], field: str) -> int:
    return next(int(k[6:]) for k, v in form.items() if k.startswith("field_") and v == field)


async def test_steps_page_switches_add_clone_remove(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    page = await admin_browser.get(STEPS)
    assert page.status_code == 200
    assert 'data-profile="default"' in page.text
    assert page.text.count("<tr data-step=") == 5
    token = csrf_of(page.text)
    off = await admin_browser.post(
        f"{STEPS}/Lead/switch", data={"csrf_token": token, "switch": "delete", "value": "off"}
    )
    assert off.status_code == 303
    assert (await load_profile(store)).step("Lead").delete is False
    added = await admin_browser.post(
        STEPS, data={"csrf_token": token, "sobject": "Lead", "step_name": "Web leads"}
    )
    assert added.status_code == 303
    shown = await admin_browser.get(added.headers["location"])
    assert "Step “Web leads” re-reads all its records" in shown.text
    assert 'data-profile="custom"' in shown.text
    await admin_browser.post(f"{STEPS}/Web leads/clone", data={"csrf_token": token})
    await admin_browser.post(f"{STEPS}/Web leads/remove", data={"csrf_token": token})
    assert (await load_profile(store)).names()[-1] == "Web leads 2"
    refused = await admin_browser.post(
        f"{STEPS}/Person to Contact/switch",
        data={"csrf_token": token, "switch": "create", "value": "on"},
    )
    assert refused.status_code == 422
    assert "field create: only one outbound step creates records" in refused.text
    bad = await admin_browser.post(
        f"{STEPS}/Lead/switch", data={"csrf_token": token, "switch": "x", "value": "on"}
    )
    assert bad.status_code == 422 and "switch: choose one of" in bad.text
    assert (await admin_browser.get(f"{STEPS}/Nope")).status_code == 404
    forged = await admin_browser.post(
        f"{STEPS}/Lead/switch", data={"csrf_token": "x", "switch": "delete", "value": "on"}
    )
    assert forged.status_code == 403


async def test_viewers_see_steps_and_mapping_but_cannot_change(
    viewer_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    page = await viewer_browser.get(STEPS)
    assert page.status_code == 200 and "Add a step" not in page.text
    mapping = await viewer_browser.get(f"{STEPS}/Lead")
    assert mapping.status_code == 200 and "Save mapping" not in mapping.text
    token = csrf_of(page.text)
    for path, data in [
        (f"{STEPS}/Lead/switch", {"switch": "delete", "value": "off"}),
        (f"{STEPS}/Lead/mapping", {"rows": "0"}),
        (f"{STEPS}/Lead/filter", {"condition": ""}),
        (STEPS, {"sobject": "Lead"}),
    ]:
        response = await viewer_browser.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    assert (await load_profile(store)).step("Lead").delete is True


async def test_mapping_editor_saves_flags_required_and_names_bad_lines(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    outbound = await admin_browser.get(f"{STEPS}/Person to Lead")
    assert 'data-required="LastName"' in outbound.text
    assert 'data-required="Company"' in outbound.text
    page = await admin_browser.get(f"{STEPS}/Lead")
    form = _mapping_form(page.text)
    city = _line(form, "City")
    form[f"mode_{city}"] = "fill"
    form.pop(f"update_{city}", None)
    saved = await admin_browser.post(f"{STEPS}/Lead/mapping", data={**form, "action": "save"})
    assert saved.status_code == 303, saved.text
    line = next(
        li for li in (await load_profile(store)).step("Lead").lines if li.salesforce_field == "City"
    )
    assert (line.mode, line.on_create, line.on_update) == (Mode.FILL, True, False)
    again = await admin_browser.get(saved.headers["location"])
    assert "re-reads all its records" in again.text

    form = _mapping_form(again.text)
    form[f"field_{_line(form, 'Title')}"] = "Sauce__c"
    rows = int(form["rows"])
    form.update({"rows": str(rows + 1), f"field_{rows}": "AnnualRevenue"})
    form.update({f"attribute_{rows}": "revenue", f"mode_{rows}": "overwrite"})
    form.update({f"create_{rows}": "1", f"update_{rows}": "1", f"direction_{rows}": "inbound"})
    form[f"conflict_{rows}"] = "most_recent"
    rejected = await admin_browser.post(f"{STEPS}/Lead/mapping", data={**form, "action": "save"})
    assert rejected.status_code == 422
    errors = re.findall(r'data-error-for="line-(\d+)">([^<]+)<', rejected.text)
    named = {int(i): text for i, text in errors}
    title = _line(form, "Sauce__c")
    assert "Lead has no field Sauce__c" in named[title]
    assert "People has no attribute revenue" in named[rows]
    assert "People -&gt; Configuration" in named[rows] and "peoplesync " not in named[rows]
    assert 'value="Sauce__c"' in rejected.text  # the user's input is kept
    assert 'data-create="revenue"' in rejected.text
    assert "Create attribute “revenue” in People (decimal)" in rejected.text

    created = await admin_browser.post(
        f"{STEPS}/Lead/mapping", data={**form, "action": f"create:{rows}"}
    )
    assert created.status_code == 200
    assert "Attribute revenue (decimal) created in People" in created.text
    assert (await store.attributes())["revenue"].type is AttributeType.DECIMAL
    form[f"field_{title}"] = "Title"
    done = await admin_browser.post(f"{STEPS}/Lead/mapping", data={**form, "action": "save"})
    assert done.status_code == 303, done.text
    fields = [li.salesforce_field for li in (await load_profile(store)).step("Lead").lines]
    assert fields[-1] == "AnnualRevenue"
    unticked = {**form, "action": "save"}
    unticked.pop(f"create_{rows}")
    unticked.pop(f"update_{rows}")
    neither = await admin_browser.post(f"{STEPS}/Lead/mapping", data=unticked)
    assert neither.status_code == 422 and "tick create, update or both" in neither.text


async def test_filters_validate_live_and_on_save(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    page = await admin_browser.get(f"{STEPS}/Lead")
    token = csrf_of(page.text)
    headers = {"HX-Request": "true", "X-CSRF-Token": token}

    async def check(part: str, **values: Any) -> str:
        response = await admin_browser.post(
            f"{STEPS}/Lead/filter/check/{part}", data=values, headers=headers
        )
        assert response.status_code == 200
        return response.text

    assert 'data-error-for="filter.condition"' not in await check(
        "condition", condition="Rating = 'Hot'"
    )
    bad = await check("condition", condition="Sauce__c = 'x'")
    assert 'data-error-for="filter.condition"' in bad and "INVALID_FIELD" in bad
    days = await check("modified_within_days", modified_within_days="soon")
    assert "filter.modified_within_days" in days and "whole number" in days
    statuses = await check("lead_statuses", lead_statuses="Hot\nWorking - Contacted")
    assert "filter.lead_statuses" in statuses and "&#39;Hot&#39;" in statuses
    assert "filter.lead_statuses" not in await check(
        "lead_statuses", lead_statuses="Working - Contacted"
    )
    unknown = await admin_browser.post(f"{STEPS}/Lead/filter/check/x", data={}, headers=headers)
    assert unknown.status_code == 404

    refused = await admin_browser.post(
        f"{STEPS}/Lead/filter",
        data={"csrf_token": token, "condition": "Sauce__c = 'x'", "modified_within_days": "30"},
    )
    assert refused.status_code == 422
    assert 'data-error-for="filter.condition"' in refused.text
    assert "Sauce__c" in refused.text  # the input is kept
    assert (await load_profile(store)).step("Lead").filter.condition is None
    saved = await admin_browser.post(
        f"{STEPS}/Lead/filter",
        data={
            "csrf_token": token,
            "condition": "LeadSource = 'Web'",
            "modified_within_days": "30",
            "lead_statuses": "Working - Contacted",
        },
    )
    assert saved.status_code == 303, saved.text
    lead_filter = (await load_profile(store)).step("Lead").filter
    assert (lead_filter.condition, lead_filter.modified_within_days) == ("LeadSource = 'Web'", 30)
    assert lead_filter.lead_statuses == ("Working - Contacted",)
    outbound = await admin_browser.get(f"{STEPS}/Person to Lead")
    assert "has no Salesforce filter" in outbound.text


async def test_company_step_mapping_is_checked_against_company_fields(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore, client: ClientFactory, users: Users
) -> None:
    page = await admin_browser.get(f"{STEPS}/Account")
    assert page.status_code == 200
    assert "data-create=" not in page.text  # no "Create attribute 'name' in People"
    assert "not in People" not in page.text
    assert "<th>Company field</th>" in page.text
    choices = re.search(r'<datalist id="people-attributes">(.*?)</datalist>', page.text, re.S)
    assert choices
    offered = re.findall(r'<option value="([^"]+)">', choices.group(1))
    assert offered[:2] == ["name", "website_domain"] and "first_name" not in offered

    form = _mapping_form(page.text)
    saved = await admin_browser.post(f"{STEPS}/Account/mapping", data={**form, "action": "save"})
    assert saved.status_code == 303, saved.text
    form[f"attribute_{_line(form, 'Industry')}"] = "first_name"
    wrong = await admin_browser.post(f"{STEPS}/Account/mapping", data={**form, "action": "save"})
    assert wrong.status_code == 422
    assert 'data-not-company="first_name"' in wrong.text
    assert "&#39;first_name&#39; is not a company field" in wrong.text
    assert 'data-create="first_name"' not in wrong.text
    lines = (await load_profile(store)).step("Account").lines
    assert {li.attribute for li in lines} >= {"name", "website_domain", "industry"}

    async with client(users.admin_token) as api:
        mapping = await api.get("/api/v1/integrations/default/steps/Account/mapping")
        assert mapping.status_code == 200
        assert mapping.json()["fields"]  # checked with the org's describe
        assert mapping.json()["missing_attributes"] == []


async def test_default_two_way_lines_show_their_rule_and_a_change_reaches_both_steps(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    """The shipped profile maps Title both ways under most recent, and the page shows it; a
    rule chosen on the inbound step's page becomes the field's rule in the outbound step too."""
    page = await admin_browser.get(f"{STEPS}/Lead")
    form = _mapping_form(page.text)
    title = _line(form, "Title")
    assert (form[f"direction_{title}"], form[f"conflict_{title}"]) == ("both", "most_recent")
    assert form[f"direction_{_line(form, 'Status')}"] == "inbound"  # not pushed: one way
    outbound = _mapping_form((await admin_browser.get(f"{STEPS}/Person to Lead")).text)
    pushed = _line(outbound, "Title")
    assert (outbound[f"direction_{pushed}"], outbound[f"conflict_{pushed}"]) == (
        "both",
        "most_recent",
    )
    form[f"conflict_{title}"] = "people_wins"
    saved = await admin_browser.post(f"{STEPS}/Lead/mapping", data={**form, "action": "save"})
    assert saved.status_code == 303, saved.text
    profile = await load_profile(store)
    rules = {
        step: next(
            li.conflict.value for li in profile.step(step).lines if li.salesforce_field == "Title"
        )
        for step in ("Lead", "Person to Lead")
    }
    assert rules == {"Lead": "people_wins", "Person to Lead": "people_wins"}
