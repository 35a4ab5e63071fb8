"""The sandbox org's record UI, over HTTPS against `peoplesync sandbox salesforce`: login,
CSRF, Leads and Contacts new / edit / delete / convert, and that UI writes behave like API
writes (SOQL, change events, system fields) without spending the API allowance."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.served_org import served_org

API = "/services/data/v59.0"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A cookie-keeping client of the org's pages (and its API, with a token)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        context = ssl.create_default_context(cafile=info["ca_cert"])
        self.http = httpx.Client(base_url=info["instance_url"], verify=context, timeout=20)
        token = self.http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "username": info["username"],
                "password": info["password"],
            },
        )
        self.api_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def csrf(self, path: str) -> str:
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        match = CSRF.search(page.text)
        assert match is not None, page.text
        return match.group(1)

    def log_in(self, password: str | None = None) -> httpx.Response:
        token = self.csrf("/login")
        return self.http.post(
            "/login",
            data={
                "csrf_token": token,
                "username": self.info["username"],
                "pw": password or self.info["password"],
                "startURL": "/lightning/o/Lead/list",
            },
        )

    def submit(self, form_path: str, fields: dict[str, str], action: str | None = None) -> Any:
        data = {"csrf_token": self.csrf(form_path), **fields}
        return self.http.post(action or form_path, data=data)

    def query(self, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        kind = "queryAll" if all_rows else "query"
        response = self.http.get(f"{API}/{kind}/", params={"q": soql}, headers=self.api_headers)
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()["records"]
        return records

    def api_used(self) -> int:
        response = self.http.get(f"{API}/limits", headers=self.api_headers)
        limits = response.json()["DailyApiRequests"]
        return int(limits["Max"]) - int(limits["Remaining"])

    def change_events(self, channel: str) -> list[dict[str, Any]]:
        """Every retained change event of ``channel`` (CometD, replaying from the start)."""

        def bayeux(*messages: dict[str, Any]) -> list[dict[str, Any]]:
            response = self.http.post("/cometd/59.0", json=list(messages), headers=self.api_headers)
            assert response.status_code == 200, response.text
            replies: list[dict[str, Any]] = response.json()
            return replies

        (shake,) = bayeux({"channel": "/meta/handshake", "version": "1.0", "id": "1"})
        client = shake["clientId"]
        (subscribed,) = bayeux(
            {
                "channel": "/meta/subscribe",
                "clientId": client,
                "subscription": channel,
                "ext": {"replay": {channel: -2}},
            }
        )
        assert subscribed["successful"], subscribed
        replies = bayeux({"channel": "/meta/connect", "clientId": client})
        return [r["data"]["payload"] for r in replies if r.get("channel") == channel]


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One served org for the module (each test works on its own records)."""
    with served_org(Path(tmp_path_factory.mktemp("ui-org")), "--seed-accounts", "3") as running:
        yield running


@pytest.fixture
def browser(info: dict[str, Any]) -> Iterator[Browser]:
    client = Browser(info)
    try:
        yield client
    finally:
        client.http.close()


@pytest.fixture
def signed_in(browser: Browser) -> Browser:
    answer = browser.log_in()
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/lightning/o/Lead/list"
    return browser


def _view_id(response: httpx.Response, sobject: str) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        rf"/lightning/r/{sobject}/(\w{{18}})/view\?toast=\w+", response.headers["location"]
    )
    assert match is not None, response.headers["location"]
    return match.group(1)


def test_pages_need_the_org_users_login(browser: Browser) -> None:
    anonymous = browser.http.get("/lightning/o/Lead/list?q=x")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?startURL=/lightning/o/Lead/list%3Fq%3Dx"
    login = browser.http.get("/login")
    policy = login.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "<script" not in login.text and "style=" not in login.text
    assert browser.http.post("/lightning/o/Lead/new", data={"LastName": "X"}).status_code == 401
    # the API's bearer token opens no page; a wrong password gets the login page again
    api_only = browser.http.get("/lightning/o/Lead/list", headers=browser.api_headers)
    assert api_only.status_code == 303
    wrong = browser.log_in(password="not the password")
    assert wrong.status_code == 401
    assert "Please check your username and password" in wrong.text
    assert "sid" not in browser.http.cookies
    # a login form without its CSRF token is refused
    forged = browser.http.post(
        "/login", data={"username": browser.info["username"], "pw": browser.info["password"]}
    )
    assert forged.status_code == 403
    assert browser.log_in().status_code == 303
    assert browser.http.get("/lightning/o/Lead/list").status_code == 200


def test_ui_session_is_no_api_token(signed_in: Browser) -> None:
    session = signed_in.http.cookies["sid"]
    answer = signed_in.http.get(f"{API}/limits", headers={"Authorization": f"Bearer {session}"})
    assert answer.status_code == 401


def test_lead_created_in_the_ui_is_queryable_and_publishes_a_change_event(
    signed_in: Browser,
) -> None:
    used_before = signed_in.api_used()
    form = signed_in.http.get("/lightning/o/Lead/new")
    assert 'name="LastName"' in form.text and 'name="Company"' in form.text
    created = signed_in.submit(
        "/lightning/o/Lead/new",
        {
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Company": "Analytical Engines",
            "Email": "ada@engines.example",
            "City": "London",
            "Status": "Open - Not Contacted",
        },
    )
    lead_id = _view_id(created, "Lead")
    page = signed_in.http.get(created.headers["location"])
    assert 'Lead "Ada Lovelace" was created.' in html.unescape(page.text)
    assert '<dd data-field="City">London</dd>' in page.text
    # UI pages and writes spend nothing of the API allowance (only this /limits call does)
    assert signed_in.api_used() == used_before + 1
    logged = signed_in.http.get("/sandbox/admin/requests", headers=signed_in.api_headers).json()
    assert {"method": "POST", "path": "/lightning/o/Lead/new", "status": 303} in [
        {k: entry[k] for k in ("method", "path", "status")} for entry in logged
    ]

    (found,) = signed_in.query(
        "SELECT Id, Name, City, CreatedById, LastModifiedDate, SystemModstamp FROM Lead "
        "WHERE Email = 'ada@engines.example'"
    )
    assert found["Id"] == lead_id and found["Name"] == "Ada Lovelace" and found["City"] == "London"
    (user,) = signed_in.query(
        f"SELECT Id FROM User WHERE Username = '{signed_in.info['username']}'"
    )
    assert found["CreatedById"] == user["Id"]
    assert found["LastModifiedDate"] and found["SystemModstamp"]
    events = [
        e
        for e in signed_in.change_events("/data/LeadChangeEvent")
        if e["ChangeEventHeader"]["recordIds"] == [lead_id]
    ]
    assert [e["ChangeEventHeader"]["changeType"] for e in events] == ["CREATE"]
    assert events[0]["Name"] == {"FirstName": "Ada", "LastName": "Lovelace"}
    assert events[0]["City"] == "London"


def test_editing_a_lead_updates_it_like_the_api(signed_in: Browser) -> None:
    lead_id = _view_id(
        signed_in.submit(
            "/lightning/o/Lead/new", {"LastName": "Hopper", "Company": "Navy", "City": "Arlington"}
        ),
        "Lead",
    )
    (before,) = signed_in.query(f"SELECT SystemModstamp FROM Lead WHERE Id = '{lead_id}'")
    edit_path = f"/lightning/r/Lead/{lead_id}/edit"
    assert 'value="Arlington"' in signed_in.http.get(edit_path).text
    saved = signed_in.submit(
        edit_path,
        {"LastName": "Hopper", "Company": "Navy", "City": "New York", "FirstName": "Grace"},
    )
    assert _view_id(saved, "Lead") == lead_id
    shown = html.unescape(signed_in.http.get(saved.headers["location"]).text)
    assert 'Lead "Grace Hopper" was saved.' in shown
    (after,) = signed_in.query(
        f"SELECT Name, City, SystemModstamp, LastModifiedDate FROM Lead WHERE Id = '{lead_id}'"
    )
    assert after["City"] == "New York" and after["Name"] == "Grace Hopper"
    assert after["SystemModstamp"] >= before["SystemModstamp"]
    updates = [
        e["ChangeEventHeader"]
        for e in signed_in.change_events("/data/LeadChangeEvent")
        if e["ChangeEventHeader"]["recordIds"] == [lead_id]
        and e["ChangeEventHeader"]["changeType"] == "UPDATE"
    ]
    assert len(updates) == 1
    assert set(updates[0]["changedFields"]) >= {"City", "FirstName", "LastModifiedDate"}
    assert "Company" not in updates[0]["changedFields"]  # unchanged fields are not written


def test_validation_errors_are_shown_on_the_form_with_the_field(signed_in: Browser) -> None:
    missing = signed_in.submit(
        "/lightning/o/Lead/new", {"FirstName": "Nameless", "Email": "not-an-email"}
    )
    assert missing.status_code == 400
    assert re.search(
        r'data-field="Email">INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email<',
        missing.text,
    )
    assert 'value="Nameless"' in missing.text  # what was typed stays
    fixed_email = signed_in.submit(
        "/lightning/o/Lead/new", {"FirstName": "Nameless", "Email": "ok@example.com"}
    )
    assert fixed_email.status_code == 400
    assert re.search(
        r'data-field="LastName">REQUIRED_FIELD_MISSING: Required fields are missing: \[LastName, Company\]',
        fixed_email.text,
    )
    assert 'data-field="Company">REQUIRED_FIELD_MISSING' in fixed_email.text
    assert "Review the errors on this page: Last Name, Company." in fixed_email.text
    assert signed_in.query("SELECT Id FROM Lead WHERE FirstName = 'Nameless'") == []
    typed = signed_in.submit(
        "/lightning/o/Lead/new",
        {"LastName": "Typed", "Company": "T", "NumberOfEmployees": "many"},
    )
    assert typed.status_code == 400
    assert 'data-field="NumberOfEmployees">INVALID_TYPE_ON_FIELD_IN_RECORD' in typed.text
    far = signed_in.http.get("/lightning/o/Lead/list?page=99999999999999999999999")
    assert far.status_code == 200 and "No items to display." in far.text

    lead_id = _view_id(
        signed_in.submit("/lightning/o/Lead/new", {"LastName": "Kept", "Company": "Kept Co"}),
        "Lead",
    )
    cleared = signed_in.submit(
        f"/lightning/r/Lead/{lead_id}/edit", {"LastName": "", "Company": "X"}
    )
    assert cleared.status_code == 400
    assert 'data-field="LastName">REQUIRED_FIELD_MISSING' in cleared.text
    (kept,) = signed_in.query(f"SELECT LastName, Company FROM Lead WHERE Id = '{lead_id}'")
    assert kept == {**kept, "LastName": "Kept", "Company": "Kept Co"}


def test_forms_without_the_csrf_token_are_refused(signed_in: Browser) -> None:
    forged = signed_in.http.post(
        "/lightning/o/Lead/new", data={"LastName": "Forged", "Company": "Evil", "csrf_token": "x"}
    )
    assert forged.status_code == 403
    assert signed_in.query("SELECT Id FROM Lead WHERE LastName = 'Forged'") == []


def test_converting_a_lead_creates_contact_and_account(signed_in: Browser) -> None:
    lead_id = _view_id(
        signed_in.submit(
            "/lightning/o/Lead/new",
            {
                "FirstName": "Alan",
                "LastName": "Turing",
                "Company": "Bletchley Park",
                "Email": "alan@bletchley.example",
                "City": "Manchester",
            },
        ),
        "Lead",
    )
    convert_path = f"/lightning/r/Lead/{lead_id}/convert"
    assert "Create New: Bletchley Park" in signed_in.http.get(convert_path).text
    converted = signed_in.submit(
        convert_path,
        {
            "account": "new",
            "convertedStatus": "Closed - Converted",
            "doNotCreateOpportunity": "true",
        },
    )
    assert _view_id(converted, "Lead") == lead_id
    (lead,) = signed_in.query(
        "SELECT IsConverted, Status, ConvertedContactId, ConvertedAccountId, ConvertedOpportunityId "
        f"FROM Lead WHERE Id = '{lead_id}'"
    )
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert lead["ConvertedOpportunityId"] is None
    (contact,) = signed_in.query(
        "SELECT Id, Name, Email, MailingCity, AccountId, Account.Name FROM Contact "
        f"WHERE Id = '{lead['ConvertedContactId']}'"
    )
    assert contact["Name"] == "Alan Turing" and contact["Email"] == "alan@bletchley.example"
    assert contact["MailingCity"] == "Manchester"
    assert contact["AccountId"] == lead["ConvertedAccountId"]
    assert contact["Account"]["Name"] == "Bletchley Park"

    page = signed_in.http.get(converted.headers["location"]).text
    assert "Your lead has been converted." in page and "This lead was converted." in page
    assert f'href="/lightning/r/Contact/{contact["Id"]}/view">Alan Turing</a>' in page
    unconverted = signed_in.http.get("/lightning/o/Lead/list?q=Bletchley").text
    assert lead_id not in unconverted and "No items to display." in unconverted
    assert "Bletchley Park" in signed_in.http.get("/lightning/o/Account/list?q=Bletchley").text
    refused = signed_in.http.post(
        convert_path,
        data={"csrf_token": signed_in.csrf(f"/lightning/r/Lead/{lead_id}/view"), "account": "new"},
    )
    assert refused.status_code == 400 and "CANNOT_UPDATE_CONVERTED_LEAD" in refused.text
    events = [
        e["ChangeEventHeader"]
        for e in signed_in.change_events("/data/ChangeEvents")
        if lead_id in e["ChangeEventHeader"]["recordIds"]
        or contact["Id"] in e["ChangeEventHeader"]["recordIds"]
    ]
    assert [(e["entityName"], e["changeType"]) for e in events] == [
        ("Lead", "CREATE"),
        ("Contact", "CREATE"),
        ("Lead", "UPDATE"),
    ]


def test_contacts_new_edit_delete_and_accounts_list(signed_in: Browser) -> None:
    accounts = signed_in.http.get("/lightning/o/Account/list")
    assert accounts.status_code == 200
    account_id = re.search(r'href="/lightning/r/Account/(\w{18})/view"', accounts.text)
    assert account_id is not None
    form = signed_in.http.get("/lightning/o/Contact/new").text
    assert f'<option value="{account_id.group(1)}"' in form
    contact_id = _view_id(
        signed_in.submit(
            "/lightning/o/Contact/new",
            {"FirstName": "Edsger", "LastName": "Dijkstra", "AccountId": account_id.group(1)},
        ),
        "Contact",
    )
    saved = signed_in.submit(
        f"/lightning/r/Contact/{contact_id}/edit",
        {"FirstName": "Edsger", "LastName": "Dijkstra", "Email": "ewd@example.com"},
    )
    assert _view_id(saved, "Contact") == contact_id
    (contact,) = signed_in.query(f"SELECT Email, AccountId FROM Contact WHERE Id = '{contact_id}'")
    assert contact["Email"] == "ewd@example.com"
    assert contact["AccountId"] is None  # the form sent no account: cleared
    assert "Dijkstra" in signed_in.http.get("/lightning/o/Contact/list?q=dijk").text
    assert "Dijkstra" not in signed_in.http.get("/lightning/o/Contact/list?q=nobody").text

    delete_path = f"/lightning/r/Contact/{contact_id}/delete"
    assert (
        "Are you sure you want to delete Edsger Dijkstra?" in signed_in.http.get(delete_path).text
    )
    deleted = signed_in.submit(delete_path, {})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/lightning/o/Contact/list?toast=deleted"
    (gone,) = signed_in.query(
        f"SELECT IsDeleted FROM Contact WHERE Id = '{contact_id}'", all_rows=True
    )
    assert gone["IsDeleted"] is True
    assert signed_in.http.get(f"/lightning/r/Contact/{contact_id}/view").status_code == 404
    assert signed_in.http.get("/lightning/o/Account/new").status_code == 404  # Accounts: list only


def test_record_addresses(signed_in: Browser) -> None:
    lead_id = _view_id(
        signed_in.submit("/lightning/o/Lead/new", {"LastName": "Linked", "Company": "Links"}),
        "Lead",
    )
    classic = signed_in.http.get(f"/{lead_id[:15]}")
    assert classic.status_code == 303
    assert classic.headers["location"] == f"/lightning/r/Lead/{lead_id}/view"
    assert signed_in.http.get(f"/lightning/r/Contact/{lead_id}/view").status_code == 404
    assert signed_in.http.get("/lightning/r/Lead/notanid/view").status_code == 404
    assert signed_in.http.get("/lightning/o/Widget/list").status_code == 404


def test_logging_out_ends_the_session(signed_in: Browser) -> None:
    session = signed_in.http.cookies["sid"]
    token = signed_in.csrf("/lightning/o/Lead/list")
    assert signed_in.http.post("/secur/logout.jsp", data={"csrf_token": token}).status_code == 303
    signed_in.http.cookies.set("sid", session)  # the old cookie no longer opens pages
    assert signed_in.http.get("/lightning/o/Lead/list").status_code == 303
