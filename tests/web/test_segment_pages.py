"""People pages: attribute filters on the list, saved segments (create from the list, open,
count, edit, delete), the Configuration page for custom attributes; viewers read only; bad
filters are a 4xx naming the field, never a 500."""

from __future__ import annotations

import re

import httpx

from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import seed_people
from tests.web.test_pages import admin_browser, csrf_of, viewer_browser

__all__ = ["admin_browser", "viewer_browser"]  # fixtures used below


def names(html: str) -> list[str]:
    return sorted(re.findall(r'<a href="/people/[0-9a-f]{32}">(\w+) ', html))


async def test_list_filters_with_search_and_errors(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    page = await admin_browser.get(
        "/people", params=[("field", "city"), ("op", "not_empty"), ("value", "")]
    )
    assert page.status_code == 200
    assert names(page.text) == ["Ada", "Alan"]
    assert "Save as segment" in page.text
    both = await admin_browser.get(
        "/people",
        params=[("q", "al"), ("field", "city"), ("op", "contains"), ("value", "CHES")],
    )
    assert names(both.text) == ["Alan"]
    rows = await admin_browser.get(
        "/people", params=[("field", "city"), ("op", "empty")], headers={"HX-Request": "true"}
    )
    assert "<form" not in rows.text
    assert names(rows.text) == ["Grace"]
    for params, field in [
        ([("field", "shoe"), ("op", "equals"), ("value", "1")], "filters[0].field"),
        ([("field", "city"), ("op", "gt"), ("value", "a")], "filters[0].op"),
        ([("field", "created_at"), ("op", "gt"), ("value", "soon")], "filters[0].value"),
        ([("segment", "f" * 32)], "id"),
    ]:
        bad = await admin_browser.get("/people", params=params)
        assert 400 <= bad.status_code < 500
        assert f'data-error-for="{field}"' in bad.text


async def test_segment_from_the_list_opened_counted_edited_deleted(
    admin_browser: httpx.AsyncClient, viewer_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    form = await admin_browser.get(
        "/segments/new", params=[("field", "city"), ("op", "not_empty"), ("value", "")]
    )
    assert '<option value="not_empty" selected>' in form.text
    token = csrf_of(form.text)
    missing = await admin_browser.post(
        "/segments/new",
        data={"csrf_token": token, "name": " ", "field": "city", "op": "not_empty"},
    )
    assert missing.status_code == 422
    assert 'data-error-for="name"' in missing.text
    bad = await admin_browser.post(
        "/segments/new",
        data={"csrf_token": token, "name": "X", "field": "city", "op": "lt", "value": "b"},
    )
    assert bad.status_code == 422
    assert 'data-error-for="filters[0].op"' in bad.text
    saved = await admin_browser.post(
        "/segments/new",
        data={"csrf_token": token, "name": "With a city", "field": "city", "op": "not_empty"},
    )
    assert saved.status_code == 303
    opened = await admin_browser.get(saved.headers["location"])
    assert "Segment: With a city" in opened.text
    assert "2 persons in this segment" in opened.text
    assert names(opened.text) == ["Ada", "Alan"]

    listing = await viewer_browser.get("/segments")
    segment_id = re.findall(r"/segments/([0-9a-f]{32})/count", listing.text)[0]
    count = await viewer_browser.get(f"/segments/{segment_id}/count")
    assert count.text == "<span data-count>2</span>"
    assert "Delete" not in listing.text  # viewers get no change buttons
    viewer_token = csrf_of(listing.text)
    refused = await viewer_browser.post(
        f"/segments/{segment_id}/delete", data={"csrf_token": viewer_token}
    )
    assert refused.status_code == 403

    edited = await admin_browser.post(
        f"/segments/{segment_id}/edit",
        data={
            "csrf_token": token,
            "name": "Londoners",
            "q": "ad",
            "field": "city",
            "op": "equals",
            "value": "london",
        },
    )
    assert edited.status_code == 303
    opened = await admin_browser.get(f"/segments/{segment_id}", follow_redirects=True)
    assert "Segment: Londoners" in opened.text
    assert names(opened.text) == ["Ada"]
    deleted = await admin_browser.post(f"/segments/{segment_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert (await admin_browser.get(f"/segments/{segment_id}/edit")).status_code == 404
    assert "No segments yet" in (await admin_browser.get("/segments")).text


async def test_configuration_page_adds_custom_attributes(
    admin_browser: httpx.AsyncClient, viewer_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    page = await admin_browser.get("/attributes")
    assert page.status_code == 200
    token = csrf_of(page.text)
    added = await admin_browser.post(
        "/attributes",
        data={"csrf_token": token, "name": "company_size", "type": "number", "mandatory": "yes"},
    )
    assert added.status_code == 303
    definition = (await store.attributes())["company_size"]
    assert (definition.type.value, definition.mandatory) == ("number", True)
    shown = await viewer_browser.get("/attributes")
    assert 'data-attribute="company_size"' in shown.text
    assert "Only admins can add attributes." in shown.text
    for data, field in [
        ({"name": "city", "type": "text"}, "name"),
        ({"name": "ok", "type": "colour"}, "type"),
    ]:
        bad = await admin_browser.post("/attributes", data={"csrf_token": token, **data})
        assert bad.status_code == 422
        assert f'data-error-for="{field}"' in bad.text
    refused = await viewer_browser.post(
        "/attributes", data={"csrf_token": csrf_of(shown.text), "name": "x", "type": "text"}
    )
    assert refused.status_code == 403
    assert "x" not in await store.attributes()


async def test_person_page_shows_contacts_company_links_and_timeline(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    from peoplesync.people.model import CompanyInput, PersonInput, TimelineEvent

    company = await store.upsert_companies(
        [
            CompanyInput(
                values={
                    "name": "Analytical Engines",
                    "industry": "Computing",
                    "website_domain": "engines.example",
                    "country": "UK",
                }
            )
        ],
        origin="test",
    )
    ids = await seed_people(store)
    await store.upsert_persons(
        [
            PersonInput(
                id=ids[0],
                values={"company_id": company.ids[0]},
                emails=["ada@example.com", "ada.second@example.org"],
                phones=["+442071234567", "+14155550123"],
            )
        ],
        origin="test",
    )
    await store.add_events(
        [TimelineEvent(ids[0], "email_opened", store.clock.now(), data={"subject": "Notes"})]
    )
    page = await admin_browser.get(f"/people/{ids[0]}")
    assert page.status_code == 200
    for text in (
        "ada.second@example.org",
        "+14155550123",
        "Analytical Engines",
        "Computing",
        "engines.example",
        "00Q000000000001AAA",
        "email_opened",
        "Notes",
    ):
        assert text in page.text, text


async def test_the_timeline_shows_event_details_as_key_value_lines_not_json(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    from peoplesync.people.model import TimelineEvent

    person, *_ = await seed_people(store)
    await store.add_events(
        [
            TimelineEvent(
                person,
                "message_failed",
                store.clock.now(),
                data={
                    "channel": "sms",
                    "error": {"code": "EC_ABSENT", "retry": True},
                    "tags": ["a", "b"],
                },
            )
        ]
    )
    page = (await admin_browser.get(f"/people/{person}")).text
    timeline = page.split("<h2>Timeline</h2>")[1].split("</section>")[0]
    assert "{" not in timeline and "&#34;" not in timeline  # no JSON
    for label, text in (
        ("channel", "sms"),
        ("error.code", "EC_ABSENT"),
        ("error.retry", "yes"),
        ("tags", "a, b"),
    ):
        assert f'<span class="meta">{label}:</span> {text}</li>' in timeline, label
