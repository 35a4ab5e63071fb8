"""Bulk API 2.0 queries through our client, against the sandbox org (in-process, over ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from peoplesync.salesforce.auth import Authenticator, PasswordCredentials, Session
from peoplesync.salesforce.bulk import (
    BulkJobFailedError,
    BulkQuery,
    convert,
    field_types,
    job_error,
    parse_page,
)
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceRequestError, SalesforceUnavailableError
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.server import seed_if_empty
from peoplesync.sync.inbound.mapper import read_path
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import BASE, Org, open_org

CONTACTS = 300
CONTACT_FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "AccountId",
    "Account.Name",
    "Account.NumberOfEmployees",
    "Account.AnnualRevenue",
    "IsDeleted",
    "Birthdate",
    "SystemModstamp",
]
CONTACT_SOQL = f"SELECT {', '.join(CONTACT_FIELDS)} FROM Contact ORDER BY Id"


@dataclass
class Harness:
    org: Org
    client: SalesforceClient
    sleeps: list[float]


def _short_sleep(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(min(seconds, 0.02))  # lets the org's job task run, keeps tests fast

    return sleep


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    config = SandboxConfig(data_dir=tmp_path / "org", instance_url=BASE, seed=5)
    await seed_if_empty(config, accounts=40, contacts=CONTACTS, leads=120)
    async for org in open_org(tmp_path, seed=5):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=org.app), base_url=BASE
        ) as http:
            sleeps: list[float] = []
            yield Harness(org, client_for(org, http, sleep=_short_sleep(sleeps)), sleeps)


def _plain(value: Any) -> Any:
    """A REST record without ``attributes`` (at any depth)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "attributes"}
    return value


async def test_bulk_results_equal_rest_query_over_several_pages(harness: Harness) -> None:
    client = harness.client
    rest = [_plain(r) async for r in client.query(CONTACT_SOQL)]
    assert len(rest) == CONTACTS
    types = await field_types(client, "Contact", CONTACT_FIELDS)
    assert types["Account.NumberOfEmployees"] == "int"
    assert types["IsDeleted"] == "boolean"
    client.usage.calls = 0
    harness.sleeps.clear()

    totals: list[int] = []
    bulk = BulkQuery(client, page_size=70)
    records = [r async for r in bulk.query(CONTACT_SOQL, types=types, on_total=totals.append)]

    assert records == rest
    assert totals == [CONTACTS]
    assert any(r["Account"] is None for r in records)  # contacts without an account
    with_account = next(r for r in records if r["AccountId"])
    assert read_path(with_account, "Account.Name") == with_account["Account"]["Name"]
    assert isinstance(with_account["Account"]["Name"], str)
    polls = len(harness.sleeps)
    assert 1 <= polls <= 4
    pages = -(-CONTACTS // 70)
    assert client.usage.calls == 1 + polls + pages  # create, polls, pages; nothing else


async def test_values_stay_strings_without_types(harness: Harness) -> None:
    soql = "SELECT Id, IsDeleted, Account.NumberOfEmployees, Title FROM Contact ORDER BY Id"
    records = [r async for r in BulkQuery(harness.client).query(soql)]
    assert len(records) == CONTACTS
    assert {r["IsDeleted"] for r in records} == {"false"}
    assert any(r["Title"] is None for r in records)  # empty field -> None
    employees = [r["Account"]["NumberOfEmployees"] for r in records if r["Account"]]
    assert employees
    assert all(isinstance(n, str) for n in employees if n is not None)


async def test_query_all_includes_deleted_records(harness: Harness) -> None:
    client = harness.client
    leads = [r["Id"] async for r in client.query("SELECT Id FROM Lead ORDER BY Id")]
    deleted = leads[:7]
    assert all(r["success"] for r in await client.delete_many(deleted))
    soql = "SELECT Id, LastName, IsDeleted, IsConverted FROM Lead ORDER BY Id"
    types = await field_types(client, "Lead", ["Id", "LastName", "IsDeleted", "IsConverted"])
    bulk = BulkQuery(client, page_size=50)

    live = [r async for r in bulk.query(soql, types=types)]
    every = [r async for r in bulk.query(soql, include_deleted=True, types=types)]
    rest_every = [_plain(r) async for r in client.query(soql, include_deleted=True)]

    assert len(live) == len(leads) - len(deleted)
    assert every == rest_every
    assert sorted(r["Id"] for r in every if r["IsDeleted"]) == sorted(deleted)
    assert not any(r["IsDeleted"] for r in live)


async def test_bad_soql_raises_our_error_with_the_code(harness: Harness) -> None:
    bulk = BulkQuery(harness.client)
    with pytest.raises(SalesforceRequestError) as caught:
        [r async for r in bulk.query("SELECT Nope FROM Contact")]
    assert caught.value.error_code == "INVALID_FIELD"
    with pytest.raises(SalesforceRequestError) as unknown:
        [r async for r in bulk.query("SELECT Id FROM NoSuchThing")]
    assert unknown.value.error_code == "INVALID_TYPE"


def _scripted_client(states: list[dict[str, Any]], sleeps: list[float]) -> SalesforceClient:
    """A client whose job status polls answer ``states`` in turn (the sandbox finishes at once)."""
    answers = iter(states)
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(200, json={"id": "750job", "state": "UploadComplete"})
        if request.method == "PATCH":
            return httpx.Response(200, json={"id": "750job", "state": "Aborted"})
        return httpx.Response(200, json={"id": "750job", **next(answers)})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url=BASE)
    credentials = PasswordCredentials("id", "secret", "user", "password")
    client = SalesforceClient(
        http, Authenticator(http, BASE, credentials), sleep=_short_sleep(sleeps)
    )
    client.session = Session("token", BASE)
    return client


async def test_polling_backs_off_up_to_a_cap_then_reports_failure() -> None:
    sleeps: list[float] = []
    states = [{"state": "InProgress"}] * 7 + [
        {"state": "Failed", "errorMessage": "InvalidBatch : Failed to process query"}
    ]
    bulk = BulkQuery(_scripted_client(states, sleeps), first_poll_seconds=0.2, max_poll_seconds=5)
    with pytest.raises(BulkJobFailedError) as caught:
        [r async for r in bulk.query("SELECT Id FROM Contact")]
    assert caught.value.error_code == "InvalidBatch"
    assert caught.value.job_id == "750job"
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert bulk.client.usage.calls == 1 + 8


async def test_a_job_that_never_finishes_is_aborted() -> None:
    sleeps: list[float] = []
    bulk = BulkQuery(_scripted_client([{"state": "InProgress"}] * 50, sleeps), max_wait_seconds=12)
    with pytest.raises(SalesforceUnavailableError) as caught:
        await bulk.wait(await bulk.start("SELECT Id FROM Contact"))
    assert caught.value.error_code == "QUERY_TIMEOUT"
    assert sum(sleeps) >= 12
    assert bulk.client.usage.calls == 1 + len(sleeps) + 1  # create, polls, abort


def test_failed_and_aborted_jobs_keep_the_code() -> None:
    failed = job_error(
        {"id": "750x", "state": "Failed", "errorMessage": "InvalidBatch : Failed to process query"}
    )
    assert isinstance(failed, BulkJobFailedError)
    assert failed.error_code == "InvalidBatch"
    assert "Failed to process query" in str(failed)
    aborted = job_error({"id": "750y", "state": "Aborted"})
    assert isinstance(aborted, BulkJobFailedError)
    assert (aborted.error_code, aborted.state, aborted.job_id) == ("JOB_ABORTED", "Aborted", "750y")
    transient = job_error({"id": "750z", "state": "Failed", "errorMessage": "QUERY_TIMEOUT : slow"})
    assert isinstance(transient, SalesforceUnavailableError)


def test_csv_pages_parse_quotes_nesting_and_types() -> None:
    text = (
        "Id,Name,Account.Name,Account.Owner.Name,Score__c,Active__c,Stamp\n"
        '1,"Smith, ""Jo""\nline two",,,"",true,2024-05-01T12:00:00.000Z\n'
        "2,Lee,Acme,Ann,3.5,false,\n"
    )
    types = {"score__c": "xsd:double", "Active__c": "boolean", "Stamp": "datetime"}
    first, second = parse_page(text, types)
    assert first == {
        "Id": "1",
        "Name": 'Smith, "Jo"\nline two',
        "Account": None,
        "Score__c": None,
        "Active__c": True,
        "Stamp": "2024-05-01T12:00:00.000+0000",
    }
    assert second["Account"] == {"Name": "Acme", "Owner": {"Name": "Ann"}}
    assert (second["Score__c"], second["Active__c"], second["Stamp"]) == (3.5, False, None)
    assert convert("42", "xsd:int") == 42
    assert list(parse_page("")) == []


@pytest.mark.parametrize("fate", ["Failed", "Aborted"])
async def test_a_query_job_the_org_ends_raises_with_its_message(
    harness: Harness, fate: str
) -> None:
    knobs = harness.org.config.knobs
    knobs.rate_bulk_failed, knobs.rate_bulk_aborted = (1.0, 0.0) if fate == "Failed" else (0.0, 1.0)
    with pytest.raises(BulkJobFailedError) as caught:
        [r async for r in BulkQuery(harness.client).query("SELECT Id FROM Contact")]
    assert caught.value.state == fate
    assert f"rate_bulk_{fate.lower()}" in str(caught.value)
