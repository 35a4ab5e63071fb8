"""The person page's Company section: the linked company record, else the person's company
attribute (said to be unlinked), else a dash."""

from __future__ import annotations

import httpx
import pytest

from peoplesync.people.model import CompanyInput, PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import ADMIN_EMAIL, ClientFactory, Users
from tests.web.test_pages import log_in


@pytest.fixture
async def admin_browser(client: ClientFactory, users: Users) -> httpx.AsyncClient:
    http = client()
    assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
    return http


def company_section(html: str) -> str:
    return html.split("<h2>Company</h2>", 1)[1].split("<h2>Salesforce records</h2>", 1)[0]


async def test_the_company_section_shows_the_record_else_the_attribute(
    admin_browser: httpx.AsyncClient,
    store: SqlPeopleStore,
) -> None:
    company = (
        await store.upsert_companies([CompanyInput({"name": "Analytical Engines"})], origin="ui")
    ).ids[0]
    result = await store.upsert_persons(
        [
            PersonInput(values={"last_name": "Free", "company": "Babbage & <Co>"}),
            PersonInput(
                values={"last_name": "Linked", "company": "Old Name", "company_id": company}
            ),
            PersonInput(values={"last_name": "None"}),
        ],
        origin="ui",
    )
    free, linked, nothing = result.ids

    page = company_section((await admin_browser.get(f"/people/{free}")).text)
    assert "Babbage &amp; &lt;Co&gt;" in page  # the attribute's name, escaped
    assert "not linked to a company record" in page
    assert "—" not in page

    page = company_section((await admin_browser.get(f"/people/{linked}")).text)
    assert f'data-company="{company}"' in page
    assert "Analytical Engines" in page
    assert "Old Name" not in page and "not linked" not in page

    page = company_section((await admin_browser.get(f"/people/{nothing}")).text)
    assert "<p>—</p>" in page
