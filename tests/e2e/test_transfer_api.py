"""Transfers through the REST API against the served sandbox org: preview writes nothing, a
started transfer runs in the background to ``done`` with persons arriving, a bad record is
reported with its field, retry reads only the failed record, an interrupted job resumes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.integration import Integration, save_integration
from peoplesync.sync.transfer.jobs import TransferJobStore
from peoplesync.web.accounts import Accounts, Role
from peoplesync.web.app import create_app
from tests.served_org import call, login, served_org
from tests.services import services_on
from tests.web.conftest import FAST_HASHER

API = "/api/v1/integrations/default"


async def _wait_done(api: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    states = []
    for _ in range(600):
        job: dict[str, Any] = (await api.get(f"{API}/transfers/{job_id}")).json()
        states.append(job["state"])
        if job["state"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job did not finish: {states[-5:]}")


async def test_preview_then_transfer_through_the_api(
    tmp_path: Path, store: SqlPeopleStore, clock: ManualClock
) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "60", "--seed-contacts", "40") as info:
        bad = call(
            info,
            "/services/data/v59.0/sobjects/Lead/",
            login(info),
            body={"LastName": "Unreachable", "Company": "Acme", "Phone": "call me maybe"},
        )["id"]
        settings = Settings(data_dir=tmp_path / "data")
        box = SecretBox.from_data_dir(settings.data_dir)
        await save_integration(
            store,
            box,
            Integration(
                "default",
                info["login_url"],
                info["client_id"],
                info["client_secret"],
                info["username"],
                info["password"],
                info["ca_cert"],
            ),
        )
        services = services_on(store, settings.data_dir, settings=settings, stored_orgs=True)
        accounts = Accounts(services.engine, clock, hasher=FAST_HASHER)
        admin = await accounts.add_user("admin@example.com", "a long password", Role.ADMIN)
        token = await accounts.issue_token(admin)
        app = create_app(services, password_hasher=FAST_HASHER)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="https://peoplesync.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as api:
            preview = await api.post(f"{API}/transfer/preview", json={})
            assert preview.status_code == 200, preview.text
            shown = preview.json()
            assert shown["preview"] is True
            assert shown["Lead"]["read"] == 61
            assert shown["Contact"]["read"] == 40
            assert shown["Lead"]["created"] >= 50
            assert shown["Lead"]["samples"]["create"]
            assert shown["Lead"]["rejected"] >= 1
            assert await store.count_persons() == 0  # a preview writes nothing
            narrow = await api.post(
                f"{API}/transfer/preview", json={"filter": f"Id = '{bad}'", "steps": ["Lead"]}
            )
            assert narrow.json()["Lead"]["read"] == 1
            assert "Contact" not in narrow.json()
            rejected = await api.post(
                f"{API}/transfer/preview", json={"filter": "NoSuchField__c = 'x'"}
            )
            assert rejected.status_code == 422  # Salesforce itself refused the condition
            assert rejected.json()["error"]["field"] == "filter"
            unknown = await api.post(f"{API}/transfers", json={"steps": ["Opportunity"]})
            assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "steps")

            recent = await api.post(f"{API}/transfer/preview", json={"modified_within_days": 90})
            read_recent = recent.json()["Lead"]["read"] + recent.json()["Contact"]["read"]
            assert 0 < read_recent < 101  # the seeded records were modified over years

            started = await api.post(f"{API}/transfers", json={"lead_statuses": []})
            assert started.status_code == 202, started.text
            job = await _wait_done(api, started.json()["id"])
            assert job["state"] == "done", job
            assert job["read"] == job["total"] == 101
            assert job["applied"] >= 90
            assert job["rejected"] >= 1
            [error] = [e for e in job["errors"] if e["record"] == f"Lead {bad}"]
            assert "Phone" in error["field"]
            assert job["asked"]["modified_within_days"] is None
            assert await store.count_persons() >= 90

            status = (await api.get(f"{API}/status")).json()
            assert status["days"][-1]["api_calls"] >= 2
            assert any(g["code"] == "INVALID_PHONE" for g in status["problems"])
            log = (await api.get(f"{API}/log", params={"operation": "transfer"})).json()
            assert log["items"][0]["outcome"] == "partial"
            errors = (await api.get(f"{API}/errors", params={"record": bad})).json()["items"]
            assert [e["code"] for e in errors] == ["INVALID_PHONE"]

            retried = await api.post(f"{API}/retry")
            assert retried.status_code == 202, retried.text
            again = await _wait_done(api, retried.json()["id"])
            assert again["state"] == "done"
            assert again["steps"]["Lead"]["read"] == 1  # only the failed record, read again
            assert again["rejected"] == 1

            resync = await api.post(f"{API}/resync")
            assert resync.status_code == 202, resync.text
            forced = await _wait_done(api, resync.json()["id"])
            assert (forced["kind"], forced["state"], forced["read"]) == ("resync", "done", 101)
            assert forced["steps"]["Lead"]["created"] == 0  # every person is there already

            # A job whose process died (no heartbeat) shows as interrupted and resumes.
            jobs = TransferJobStore(store.engine, clock)
            dead = await jobs.create(
                "default",
                "transfer",
                {"asked": {}, "conditions": {"Contact": None}, "force": False},
                ["Contact"],
                "admin@example.com",
            )
            clock.advance(timedelta(minutes=5))
            listed = (await api.get(f"{API}/transfers")).json()["items"]
            assert listed[0]["id"] == dead.id
            assert listed[0]["state"] == "interrupted"
            resumed = await api.post(f"{API}/transfers/{dead.id}/resume")
            assert resumed.status_code == 202, resumed.text
            finished = await _wait_done(api, dead.id)
            assert finished["state"] == "done"
            assert finished["steps"]["Contact"]["read"] == 40
        await app.state.transfers.wait()
