"""The HTML pages: login with CSRF, sessions, People list and search, person page, add and
edit with errors next to the field, the Salesforce status page with pause and resume."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.web.accounts import Accounts, Role
from peoplesync.web.pages import safe_next
from tests.web.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    VIEWER_EMAIL,
    ClientFactory,
    Users,
    seed_people,
    seed_status,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "src/peoplesync/web/templates"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def log_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/login")
    return await http.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": "/people",
        },
    )


@pytest.fixture
async def admin_browser(client: ClientFactory, users: Users) -> httpx.AsyncClient:
    http = client()
    response = await log_in(http, ADMIN_EMAIL)
    assert response.status_code == 303
    return http


@pytest.fixture
async def viewer_browser(client: ClientFactory, users: Users) -> httpx.AsyncClient:
    http = client()
    assert (await log_in(http, VIEWER_EMAIL)).status_code == 303
    return http


async def test_login_sets_a_secure_session_cookie_and_logout_ends_it(
    client: ClientFactory, users: Users
) -> None:
    async with client() as http:
        response = await log_in(http, ADMIN_EMAIL)
        assert response.status_code == 303
        assert response.headers["location"] == "/people"
        cookie = response.headers["set-cookie"].lower()
        assert "peoplesync_session=" in cookie
        assert all(flag in cookie for flag in ("httponly", "secure", "samesite=lax"))
        people = await http.get("/people")
        assert people.status_code == 200
        assert ADMIN_EMAIL in people.text
        assert "default-src 'self'" in people.headers["content-security-policy"]

        assert (await http.post("/logout", data={})).status_code == 403  # no CSRF token
        out = await http.post("/logout", data={"csrf_token": csrf_of(people.text)})
        assert out.status_code == 303
        assert (await http.get("/people")).status_code == 303  # back to login


async def test_wrong_password_and_missing_login_csrf_are_refused(
    client: ClientFactory, users: Users
) -> None:
    async with client() as http:
        wrong = await log_in(http, ADMIN_EMAIL, "not the password")
        assert wrong.status_code == 401
        assert "Wrong email or password" in wrong.text
        unknown = await log_in(http, "nobody@example.com")
        assert unknown.status_code == 401
        forged = await http.post(
            "/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": "x"}
        )
        assert forged.status_code == 403
        assert "peoplesync_session" not in forged.headers.get("set-cookie", "")


def test_next_is_only_a_local_path() -> None:
    assert safe_next("/people/1?x=2") == "/people/1?x=2"
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", None, ""):
        assert safe_next(target) == "/people"


async def test_people_list_search_and_person_page(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    ada, *_ = await seed_people(store)
    page = await admin_browser.get("/people")
    assert "Lovelace" in page.text and "Hopper" in page.text
    found = await admin_browser.get("/people", params={"q": "lov"}, headers={"HX-Request": "true"})
    assert "Lovelace" in found.text and "Hopper" not in found.text
    assert "<html" not in found.text  # htmx gets the rows only
    person = await admin_browser.get(f"/people/{ada}")
    assert person.status_code == 200
    assert "ada@example.com" in person.text
    assert 'href="https://org.example.my.salesforce.com/00Q000000000001AAA"' in person.text
    assert (await admin_browser.get("/people/nobody")).status_code == 404
    stale = await admin_browser.get("/people", params={"after": "garbage"})
    assert stale.status_code == 422  # the People page again, saying why, not the first page
    assert "the page cursor is not valid" in stale.text and 'name="q"' in stale.text


async def test_edit_shows_the_error_next_to_the_field_then_saves(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    ada, *_ = await seed_people(store)
    form = await admin_browser.get(f"/people/{ada}/edit")
    token = csrf_of(form.text)
    fields = {
        "csrf_token": token,
        "emails": "ada@example.com",
        "phones": "",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "city": "Paris",
        "birth_date": "not a date",
    }
    invalid = await admin_browser.post(f"/people/{ada}/edit", data=fields)
    assert invalid.status_code == 422
    assert 'data-error-for="birth_date"' in invalid.text
    assert 'value="Paris"' in invalid.text  # what was typed is kept
    assert (await store.get_persons([ada]))[ada].get("city") == "London"

    saved = await admin_browser.post(f"/people/{ada}/edit", data={**fields, "birth_date": ""})
    assert saved.status_code == 303
    assert (await store.get_persons([ada]))[ada].get("city") == "Paris"
    assert (await store.get_persons([ada]))[ada].phones == ()

    forged = await admin_browser.post(f"/people/{ada}/edit", data={**fields, "csrf_token": "x"})
    assert forged.status_code == 403


async def test_add_person_and_duplicate_email(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    token = csrf_of((await admin_browser.get("/people/new")).text)
    created = await admin_browser.post(
        "/people/new",
        data={
            "csrf_token": token,
            "first_name": "Mary",
            "last_name": "Jackson",
            "emails": "mary@example.com",
            "phones": "+1 415 555 0199",
            "city": "",
        },
    )
    assert created.status_code == 303
    mary = created.headers["location"].rsplit("/", 1)[1]
    assert (await store.get_persons([mary]))[mary].phones == ("+14155550199",)
    again = await admin_browser.post(
        "/people/new", data={"csrf_token": token, "emails": "ADA@example.com"}
    )
    assert again.status_code == 422
    assert 'data-error-for="emails"' in again.text

    # a new person has no events: said in a sentence, not as the timeline's item "1."
    page = (await admin_browser.get(f"/people/{mary}")).text
    timeline = page.split("<h2>Timeline</h2>")[1].split("</section>")[0]
    assert "No events yet." in timeline
    assert "<li" not in timeline and "<ol" not in timeline


async def test_viewer_sees_but_cannot_change(
    viewer_browser: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    ada, *_ = await seed_people(store)
    await seed_status(store, clock)
    person = await viewer_browser.get(f"/people/{ada}")
    assert "/edit" not in person.text
    token = csrf_of(person.text)
    edit = await viewer_browser.post(f"/people/{ada}/edit", data={"csrf_token": token, "city": "X"})
    assert edit.status_code == 403
    status = await viewer_browser.get("/salesforce/status")
    assert "Pause" not in status.text
    pause = await viewer_browser.post("/salesforce/default/pause", data={"csrf_token": token})
    assert pause.status_code == 403


async def test_status_page_with_pause_and_resume(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    missing = await admin_browser.get("/salesforce/status")
    assert missing.status_code == 404
    assert "peoplesync salesforce connect" in missing.text
    await seed_people(store)
    await seed_status(store, clock)
    page = await admin_browser.get("/salesforce/status")
    assert page.status_code == 200
    assert 'data-state="active"' in page.text
    assert 'data-code="INVALID_EMAIL"' in page.text
    assert "00Q000000000002AAA" in page.text
    assert "give an address like name@example.com" in page.text
    assert "<svg" in page.text
    paused = await admin_browser.post(
        "/salesforce/default/pause", data={"csrf_token": csrf_of(page.text)}
    )
    assert paused.status_code == 303
    page = await admin_browser.get(paused.headers["location"])
    assert 'data-state="paused"' in page.text
    await admin_browser.post("/salesforce/default/resume", data={"csrf_token": csrf_of(page.text)})
    assert 'data-state="active"' in (await admin_browser.get("/salesforce/status")).text


async def test_one_time_password_must_be_changed_first(
    client: ClientFactory, accounts: Accounts
) -> None:
    await accounts.add_user(
        "first@example.com", "one-time-pass", Role.ADMIN, must_change_password=True
    )
    async with client() as http:
        response = await log_in(http, "first@example.com", "one-time-pass")
        assert response.headers["location"] == "/account/password"
        assert (await http.get("/people")).headers["location"] == "/account/password"
        form = await http.get("/account/password")
        token = csrf_of(form.text)
        short = await http.post(
            "/account/password", data={"csrf_token": token, "password": "short", "confirm": "short"}
        )
        assert short.status_code == 422
        done = await http.post(
            "/account/password",
            data={
                "csrf_token": token,
                "password": "a much longer one",
                "confirm": "a much longer one",
            },
        )
        assert done.status_code == 303
        assert (await http.get("/people")).status_code == 200
    assert await accounts.authenticate("first@example.com", "a much longer one") is not None


async def test_session_cookie_works_for_the_api_with_the_csrf_header(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    await seed_people(store)
    await seed_status(store, clock)
    page = await admin_browser.get("/people")
    assert (await admin_browser.get("/api/v1/me")).json()["email"] == ADMIN_EMAIL
    assert (await admin_browser.post("/api/v1/integrations/default/pause")).status_code == 403
    ok = await admin_browser.post(
        "/api/v1/integrations/default/pause", headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert ok.status_code == 200


async def test_assets_are_served_locally(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/static/htmx.min.js")).status_code == 200
    assert (await anonymous.get("/static/app.css")).status_code == 200
    for template in TEMPLATES.glob("*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', template.read_text()), template
