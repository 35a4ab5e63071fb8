"""Retry's outbound half through the REST API against the served sandbox org: a person that
Salesforce rejected, fixed in People, is pushed again by POST .../retry and arrives as a Lead;
a person still wrong is pushed again too (retried now, not at its backoff time) and stays an
error."""

from __future__ import annotations

from pathlib import Path

import httpx

from peoplesync.clock import ManualClock, SystemClock
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.integration import Integration, save_integration
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync_session import connected_client
from peoplesync.web.accounts import Accounts, Role
from peoplesync.web.app import create_app
from tests.e2e.test_transfer_api import API, _wait_done
from tests.served_org import call, login, served_org
from tests.services import services_on
from tests.web.conftest import FAST_HASHER


async def _person(store: SqlPeopleStore, email: str, **values: object) -> str:
    result = await store.upsert_persons([PersonInput(values=values, emails=[email])], origin="ui")
    (person_id,) = result.ids
    assert person_id is not None
    return person_id


async def test_retry_pushes_failed_persons_again(
    tmp_path: Path, store: SqlPeopleStore, clock: ManualClock
) -> None:
    with served_org(tmp_path / "org") as info:
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
        fixed = await _person(
            store, "fixed@example.com", last_name="Fixed", company="A", title="x" * 200
        )
        still = await _person(
            store, "still@example.com", last_name="Still", company="A", title="y" * 200
        )

        # The sync worker's push: Salesforce rejects both titles (STRING_TOO_LONG).
        statuses = StatusStore(store.engine, SystemClock())
        async with connected_client(settings, store) as client:
            recorder = StatusRecorder(statuses, "default", client, SystemClock())
            runner = OutboundRunner(client, store, default_steps(), SystemClock())
            report = await recorder.run_push(runner)
        assert {e.record: e.code for e in report.errors} == {
            f"person {fixed}": "STRING_TOO_LONG",
            f"person {still}": "STRING_TOO_LONG",
        }
        assert report.retrying == 2
        problems = {p["record_id"] for p in await statuses.problems("default")}
        assert problems == {f"person {fixed}", f"person {still}"}

        await store.upsert_persons(
            [PersonInput(values={"title": "Engineer"}, id=fixed)], origin="ui"
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
            retried = await api.post(f"{API}/retry")
            assert retried.status_code == 202, retried.text
            assert retried.json()["kind"] == "retry"
            job = await _wait_done(api, retried.json()["id"])
        assert job["state"] == "done", job
        push = job["steps"]["push"]
        # Both failed persons were pushed now (the unfixed one long before its backoff).
        assert (push["read"], push["created"], push["rejected"]) == (2, 1, 1)
        assert [e["record"] for e in job["errors"]] == [f"person {still}"]

        token_sf = login(info)
        found = call(
            info,
            "/services/data/v59.0/query/?q="
            "SELECT+Id,Title+FROM+Lead+WHERE+Email+=+'fixed@example.com'",
            token_sf,
        )["records"]
        assert [r["Title"] for r in found] == ["Engineer"]
        links = (await store.links_of("person", [fixed]))[fixed]
        assert [x.external_id for x in links if x.object == "Lead"] == [found[0]["Id"]]
        problems = {p["record_id"] for p in await statuses.problems("default")}
        assert problems == {f"person {still}"}  # the arrived person's error is cleared
