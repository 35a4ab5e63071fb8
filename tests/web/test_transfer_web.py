"""Transfer, log and status extras over HTTP: who may do what, bad input answered with a 4xx
naming the field, a running job not started twice, an interrupted one shown as such, the log
paged by keyset, deleting an integration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.status.state import Problem
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync.transfer.jobs import TransferJobStore
from tests.web.conftest import (
    ADMIN_EMAIL,
    VIEWER_EMAIL,
    ClientFactory,
    Users,
    seed_people,
    seed_status,
)
from tests.web.test_pages import csrf_of, log_in

API = "/api/v1/integrations/default"


@pytest.fixture
async def admin_page(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        yield http


@pytest.fixture
async def viewer_page(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, VIEWER_EMAIL)).status_code == 303
        yield http


def _error(response: httpx.Response, status: int, field: str | None) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["field"] == field, error
    return error


async def test_anonymous_gets_401_and_viewer_cannot_change(
    store: SqlPeopleStore,
    anonymous: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
) -> None:
    await seed_people(store)
    for method, path in [
        ("POST", f"{API}/transfer/preview"),
        ("POST", f"{API}/transfers"),
        ("GET", f"{API}/transfers"),
        ("GET", f"{API}/log"),
        ("GET", f"{API}/errors"),
        ("POST", f"{API}/retry"),
        ("DELETE", API),
    ]:
        assert (await anonymous.request(method, path)).status_code == 401, path
    for method, path in [
        ("POST", f"{API}/transfers"),
        ("POST", f"{API}/resync"),
        ("POST", f"{API}/retry"),
        ("POST", f"{API}/transfers/x/resume"),
        ("DELETE", API),
    ]:
        response = await viewer.request(method, path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "FORBIDDEN"
    assert (await viewer.get(f"{API}/transfers")).json() == {"items": []}
    assert (await viewer.get(f"{API}/log")).status_code == 200
    assert (await viewer.get(f"{API}/errors")).status_code == 200


async def test_bad_transfer_input_names_the_field(
    store: SqlPeopleStore, admin: httpx.AsyncClient
) -> None:
    await seed_people(store)
    for body, field in [
        ({"modified_within_days": 0}, "modified_within_days"),
        ({"modified_within_days": "soon"}, "modified_within_days"),
        ({"modified_within_days": 10**9}, "modified_within_days"),
        ({"filter": "Name = 'x' LIMIT 5"}, "filter"),
        ({"filter": "Name = 'unclosed"}, "filter"),
        ({"filter": "Name = 'a') OR (Id != null"}, "filter"),
        ({"filter": "x" * 5000}, "filter"),
        ({"lead_statuses": "Open"}, "lead_statuses"),
        ({"lead_statuses": ["x" * 300]}, "lead_statuses.0"),
        ({"mystery": 1}, "mystery"),
        ({"lead_statuses": ["Open\x00"]}, "lead_statuses[0]"),  # refused by the input guard
        ({"filter": "Name = 'a\x00'"}, "filter"),
    ]:
        for path in (f"{API}/transfer/preview", f"{API}/transfers"):
            error = _error(await admin.post(path, json=body), 422, field)
            assert error["message"], body
    not_json = await admin.post(
        f"{API}/transfers", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    _error(await admin.post("/api/v1/integrations/nope/transfers", json={}), 404, "integration")
    _error(await admin.get(f"{API}/transfers/nojob"), 404, "job_id")
    _error(await admin.get("/api/v1/integrations/nope/log"), 404, "integration")
    # Valid input, but this app cannot reach Salesforce: a clear conflict, not a 500.
    refused = await admin.post(f"{API}/transfers", json={"modified_within_days": 90})
    assert refused.status_code == 409
    assert "Salesforce" in refused.json()["error"]["message"]


async def test_a_running_job_is_not_started_twice_and_a_dead_one_shows_interrupted(
    store: SqlPeopleStore,
    clock: ManualClock,
    client: ClientFactory,
    users: Users,
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
) -> None:
    await seed_people(store)
    jobs = TransferJobStore(store.engine, clock)
    job = await jobs.create(
        "default", "transfer", {"asked": {}, "conditions": {"Lead": None}}, ["Lead"], "x@y.z"
    )
    job.steps["Lead"].read, job.steps["Lead"].total = 40, 100
    await jobs.save(job)

    busy = await admin.post(f"{API}/transfers", json={})
    assert busy.status_code == 409
    assert job.id in busy.json()["error"]["message"]
    assert (await admin.post(f"{API}/resync")).status_code == 409
    assert (await admin.delete(API)).status_code == 409
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        page = await http.get("/salesforce/default/transfer")
        assert 'data-state="running"' in page.text  # shown, polling its progress
        assert f"/salesforce/default/transfer/progress?job={job.id}" in page.text
        again = await http.post(
            "/salesforce/default/transfer",
            data={"csrf_token": csrf_of(page.text), "action": "start"},
        )
        assert again.status_code == 409
        assert "already running" in again.text
        fragment = await http.get("/salesforce/default/transfer/progress", params={"job": job.id})
        assert '<span data-count="read">40</span>' in fragment.text
    shown = (await viewer.get(f"{API}/transfers/{job.id}")).json()
    assert (shown["state"], shown["read"], shown["total"], shown["percent"]) == (
        "running",
        40,
        100,
        40,
    )
    not_interrupted = await admin.post(f"{API}/transfers/{job.id}/resume")
    assert not_interrupted.status_code == 409

    clock.advance(timedelta(minutes=2))  # its process stopped beating its heart
    listed = (await viewer.get(f"{API}/transfers")).json()["items"]
    assert [(j["id"], j["state"]) for j in listed] == [(job.id, "interrupted")]
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        page = await http.get("/salesforce/default/transfer")
        assert 'data-state="interrupted"' in page.text
        assert f"/salesforce/default/transfer/{job.id}/resume" in page.text
        assert "hx-trigger" not in page.text  # an interrupted job is not polled


async def test_log_and_errors_filter_and_page_by_keyset(
    store: SqlPeopleStore, clock: ManualClock, viewer: httpx.AsyncClient
) -> None:
    await seed_people(store)
    statuses = StatusStore(store.engine, clock)
    for n in range(120):
        outcome = "failed" if n % 10 == 0 else "ok"
        await statuses.log(
            "default",
            "poll",
            object="Lead" if n % 2 else "Contact",
            records=n,
            outcome=outcome,
            detail=f"pass {n} 00Q{n:015d}",
        )
        clock.advance(timedelta(seconds=1))
    await statuses.record_problems(
        "default",
        "Lead",
        [
            Problem("error", "INVALID_PHONE", f"00Q{n:015d}", "Phone", "bad", "fix")
            for n in range(70)
        ],
    )
    await statuses.record_problems(
        "default", "Contact", [Problem("warning", "LEAD_CONVERTED", "003000000000001", "", "w", "")]
    )

    seen: list[int] = []
    after = None
    while True:
        params = {"limit": 50, **({"after": after} if after else {})}
        page = (await viewer.get(f"{API}/log", params=params)).json()
        seen += [item["records"] for item in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == list(range(119, -1, -1))

    failed = await viewer.get(f"{API}/log", params={"errors_only": True, "object": "Contact"})
    assert [i["records"] for i in failed.json()["items"]] == list(range(110, -1, -10))
    one = (await viewer.get(f"{API}/log", params={"record": f"00Q{7:015d}"})).json()["items"]
    assert [i["records"] for i in one] == [7]
    start = clock.now() - timedelta(seconds=5)
    recent = await viewer.get(f"{API}/log", params={"since": start.isoformat()})
    assert len(recent.json()["items"]) == 5

    codes: list[str] = []
    after = None
    while True:
        params = {"limit": 30, **({"after": after} if after else {})}
        page = (await viewer.get(f"{API}/errors", params=params)).json()
        codes += [item["record"] for item in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert len(codes) == 71 == len(set(codes))
    errors = await viewer.get(f"{API}/errors", params={"errors_only": True, "limit": 200})
    assert {i["code"] for i in errors.json()["items"]} == {"INVALID_PHONE"}

    _error(await viewer.get(f"{API}/log", params={"since": "yesterday"}), 422, "since")
    _error(await viewer.get(f"{API}/log", params={"until": "2026-13-40"}), 422, "until")
    _error(
        await viewer.get(f"{API}/log", params={"since": "2026-11-25", "until": "2026-11-01"}),
        422,
        "until",
    )
    _error(await viewer.get(f"{API}/log", params={"after": "garbage!"}), 422, "after")
    _error(await viewer.get(f"{API}/errors", params={"after": "WzFd"}), 422, "after")
    _error(await viewer.get(f"{API}/log", params={"limit": 0}), 422, "limit")
    far = {"since": "0001-01-01T00:00+14:00"}
    _error(await viewer.get(f"{API}/log", params=far), 422, "since")
    _error(await viewer.get(f"{API}/log", params={"operation": "po\x00ll"}), 422, "operation")
    _error(await viewer.get(f"{API}/log", params={"after": "WzFlMzBd"}), 422, "after")  # [1e30]
    _error(await viewer.get(f"{API}/errors", params={"after": "WzEsMiwzLDRd"}), 422, "after")
    _error(await viewer.get(f"{API}/transfers/a%00b"), 422, "path")  # the input guard


async def test_pages_transfer_log_status_extras_and_delete(
    store: SqlPeopleStore,
    clock: ManualClock,
    admin_page: httpx.AsyncClient,
    viewer_page: httpx.AsyncClient,
    admin: httpx.AsyncClient,
) -> None:
    await seed_people(store)
    await seed_status(store, clock)

    status = await admin_page.get("/salesforce/status")
    assert status.status_code == 200
    assert 'aria-label="Records synced per day"' in status.text
    assert "Retry failed records" in status.text
    assert "/salesforce/default/log?code=INVALID_EMAIL" in status.text
    assert "Delete integration" in status.text
    viewer_status = await viewer_page.get("/salesforce/status")
    assert "Retry failed records" not in viewer_status.text

    page = await admin_page.get("/salesforce/default/transfer")
    assert page.status_code == 200
    assert "Start transfer" in page.text and "Resync all" in page.text
    token = csrf_of(page.text)
    bad = await admin_page.post(
        "/salesforce/default/transfer",
        data={"csrf_token": token, "modified_within_days": "-3", "action": "preview"},
    )
    assert bad.status_code == 422
    assert 'data-error-for="modified_within_days"' in bad.text
    bad_filter = await admin_page.post(
        "/salesforce/default/transfer",
        data={"csrf_token": token, "filter": "Name = 'x' ORDER BY Name", "action": "start"},
    )
    assert bad_filter.status_code == 422
    assert 'data-error-for="filter"' in bad_filter.text
    viewer_token = csrf_of((await viewer_page.get("/salesforce/default/transfer")).text)
    refused = await viewer_page.post(
        "/salesforce/default/transfer", data={"csrf_token": viewer_token, "action": "start"}
    )
    assert refused.status_code == 403
    no_csrf = await admin_page.post("/salesforce/default/transfer", data={"action": "preview"})
    assert no_csrf.status_code == 403
    assert (
        await viewer_page.post("/salesforce/default/retry", data={"csrf_token": viewer_token})
    ).status_code == 403

    log = await viewer_page.get("/salesforce/default/log", params={"code": "INVALID_EMAIL"})
    assert log.status_code == 200
    assert "00Q000000000002AAA" in log.text
    bad_log = await viewer_page.get("/salesforce/default/log", params={"since": "later"})
    assert bad_log.status_code == 422
    assert 'data-error-for="since"' in bad_log.text
    assert (await viewer_page.get("/salesforce/nope/log")).status_code == 404

    confirm = await admin_page.get("/salesforce/default/delete")
    token = csrf_of(confirm.text)
    wrong = await admin_page.post(
        "/salesforce/default/delete", data={"csrf_token": token, "confirm": "defualt"}
    )
    assert wrong.status_code == 422
    assert 'data-error-for="confirm"' in wrong.text
    assert (await admin.get(f"{API}/status")).status_code == 200
    done = await admin_page.post(
        "/salesforce/default/delete", data={"csrf_token": token, "confirm": "default"}
    )
    assert done.status_code == 303
    assert (await admin.get(f"{API}/status")).status_code == 404
    assert await store.get_state("integration:default") is None
    log_lines = await StatusStore(store.engine, clock).operations("default")
    assert log_lines[0].operation == "delete"
    assert "1 link(s) removed" in log_lines[0].detail
