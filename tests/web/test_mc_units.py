"""Marketing Cloud business units in the web app and the REST API, on SQLite and PostgreSQL:
add (every wrong field named, a taken name or MID refused), list with the activity endpoints,
edit (secrets left empty stay), test the connection and deploy the data extensions against
the sandbox (a process over HTTPS, trusted through the unit's CA file), remove after a
confirmation. Secrets never come back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from peoplesync.marketing_cloud.tables import business_units
from peoplesync.people.sql_store import SqlPeopleStore
from tests.served_org import served_sandbox
from tests.web.conftest import ADMIN_EMAIL, ClientFactory, Users
from tests.web.test_pages import csrf_of, log_in

SECRET = "client-secret-never-shown"
JWT = "jwt-secret-never-shown"
UNITS = "/api/v1/marketing-cloud/units"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served_sandbox("marketing-cloud", tmp_path / "mc") as info:
        yield info


def _body(info: dict[str, Any], **changes: str) -> dict[str, str]:
    return {
        "name": "acme",
        "mid": info["mid"],
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "auth_url": info["auth_url"],
        "jwt_secret": JWT,
        "ca_cert": info["ca_cert"],
    } | changes


async def test_rest_add_list_edit_test_deploy_remove(
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    store: SqlPeopleStore,
    sandbox: dict[str, Any],
) -> None:
    empty = await admin.post(
        UNITS, json={"name": "", "mid": "", "client_id": "", "client_secret": "", "auth_url": ""}
    )
    assert (empty.status_code, empty.json()["error"]["field"]) == (422, "name")
    bad_mid = await admin.post(UNITS, json=_body(sandbox, mid="MID-1"))
    assert (bad_mid.status_code, bad_mid.json()["error"]["field"]) == (422, "mid")
    refused = await viewer.post(UNITS, json=_body(sandbox))
    assert refused.status_code == 403
    added = await admin.post(UNITS, json=_body(sandbox))
    assert added.status_code == 201, added.text
    shown = added.json()
    assert shown["endpoints"]["message"] == "https://peoplesync.test/journey/acme/message/"
    assert shown["endpoints"]["reports_config"] == (
        "https://peoplesync.test/journey/acme/reports/config.json"
    )
    assert shown["has_jwt_secret"] is True
    twice = await admin.post(UNITS, json=_body(sandbox))
    assert (twice.status_code, twice.json()["error"]["field"]) == (409, "name")
    same_mid = await admin.post(UNITS, json=_body(sandbox, name="acme-2"))
    assert (same_mid.status_code, same_mid.json()["error"]["field"]) == (409, "mid")
    assert "belongs to the business unit 'acme'" in same_mid.json()["error"]["message"]

    listed = await viewer.get(UNITS)
    assert [unit["name"] for unit in listed.json()["items"]] == ["acme"]
    for text in (listed.text, added.text):
        assert SECRET not in text and JWT not in text and sandbox["client_secret"] not in text

    edited = await admin.patch(
        f"{UNITS}/acme",
        json={
            "report_storage": "external",
            "short_domain": "https://go.ex.com",
            "clicks_webhook_url": "https://hooks.example.com/clicks",
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["report_storage"] == "external"
    kept = await admin.patch(f"{UNITS}/acme", json={"report_storage": None, "mid": None})
    assert (kept.json()["report_storage"], kept.json()["mid"]) == ("external", sandbox["mid"])
    assert edited.json()["clicks_webhook_url"] == "https://hooks.example.com/clicks"
    bad_hook = await admin.patch(f"{UNITS}/acme", json={"reports_webhook_url": "ftp://x"})
    assert (bad_hook.status_code, bad_hook.json()["error"]["field"]) == (422, "reports_webhook_url")

    tested = await admin.post(f"{UNITS}/acme/test")
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text  # secret kept
    deployed = await admin.post(f"{UNITS}/acme/deploy")
    assert deployed.status_code == 200, deployed.text
    assert [each["status"] for each in deployed.json()["extensions"]] == ["created"] * 5
    again = await admin.post(f"{UNITS}/acme/deploy")
    assert [each["status"] for each in again.json()["extensions"]] == ["unchanged"] * 5

    wrong = await admin.patch(f"{UNITS}/acme", json={"client_secret": "wrong"})
    assert wrong.status_code == 200
    failed = await admin.post(f"{UNITS}/acme/test")
    assert failed.json()["ok"] is False
    assert failed.json()["message"].startswith("credentials refused")
    denied = await admin.post(f"{UNITS}/acme/deploy")
    assert denied.status_code == 409 and "refused the credentials" in denied.text

    async with store.engine.connect() as conn:
        sealed = (await conn.execute(sa.select(business_units.c.client_secret_sealed))).scalar()
    assert sealed and "wrong" not in sealed

    assert (await admin.delete(f"{UNITS}/acme")).json() == {"name": "acme", "removed": True}
    assert (await admin.get(f"{UNITS}/acme")).status_code == 404
    assert (await admin.delete(f"{UNITS}/acme")).status_code == 404


async def test_the_openapi_schema_has_the_unit_endpoints(admin: httpx.AsyncClient) -> None:
    schema = (await admin.get("/api/v1/openapi.json")).json()
    paths = schema["paths"]
    assert set(paths[UNITS.removeprefix("/api/v1")]) == {"get", "post"}
    one = paths["/marketing-cloud/units/{name}"]
    assert set(one) == {"get", "patch", "delete"}
    assert "post" in paths["/marketing-cloud/units/{name}/test"]
    assert "post" in paths["/marketing-cloud/units/{name}/deploy"]


async def test_pages_name_every_wrong_field_keep_secrets_and_confirm_removal(
    client: ClientFactory, users: Users, store: SqlPeopleStore
) -> None:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        listing = await http.get("/marketing-cloud")
        assert listing.status_code == 200 and "No business unit yet." in listing.text
        token = csrf_of(listing.text)
        empty = await http.post("/marketing-cloud", data={"csrf_token": token, "name": ""})
        assert empty.status_code == 422
        for field in ("name", "mid", "client_id", "client_secret", "auth_url"):
            assert f'data-error-for="{field}"' in empty.text, field
        form = {
            "csrf_token": token,
            "name": "acme",
            "mid": "510000042",
            "client_id": "cid",
            "client_secret": SECRET,
            "auth_url": "https://mc.example.com/",
            "jwt_secret": JWT,
            "report_storage": "external",
            "clicks_webhook_url": "not a url",
        }
        bad = await http.post("/marketing-cloud", data=form)
        assert bad.status_code == 422 and 'data-error-for="clicks_webhook_url"' in bad.text
        assert SECRET not in bad.text and JWT not in bad.text  # never sent back to the form
        added = await http.post("/marketing-cloud", data=form | {"clicks_webhook_url": ""})
        assert added.status_code == 303 and added.headers["location"] == "/marketing-cloud/acme"
        page = await http.get("/marketing-cloud/acme")
        assert "/journey/acme/message/config.json" in page.text
        assert SECRET not in page.text and JWT not in page.text
        twice = await http.post("/marketing-cloud", data=form | {"clicks_webhook_url": ""})
        assert twice.status_code == 422 and "exists" in twice.text

        async with store.engine.connect() as conn:
            before = (await conn.execute(sa.select(business_units))).one()
        edit = {key: value for key, value in form.items() if key not in ("name",)}
        edit |= {
            "client_secret": "",
            "jwt_secret": "",
            "clicks_webhook_url": "",
            "mid": "510000043",
        }
        saved = await http.post("/marketing-cloud/acme", data=edit)
        assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
        async with store.engine.connect() as conn:
            after = (await conn.execute(sa.select(business_units))).one()
        assert after.mid == "510000043"
        assert after.client_secret_sealed == before.client_secret_sealed  # empty: kept
        assert after.jwt_secret_sealed == before.jwt_secret_sealed

        ask = await http.post("/marketing-cloud/acme/remove", data={"csrf_token": token})
        assert ask.status_code == 409 and "Remove it anyway?" in ask.text
        assert (await http.get("/marketing-cloud/acme")).status_code == 200  # still there
        gone = await http.post(
            "/marketing-cloud/acme/remove", data={"csrf_token": token, "confirm": "1"}
        )
        assert gone.status_code == 303
        assert (await http.get("/marketing-cloud/acme")).status_code == 404


SALT = "0x6b657973616c74"


async def test_named_salt_keys_by_form_and_rest_show_only_their_names(
    client: ClientFactory, admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        token = csrf_of((await http.get("/marketing-cloud")).text)
        form = {
            "csrf_token": token,
            "name": "acme",
            "mid": "510000042",
            "client_id": "cid",
            "client_secret": SECRET,
            "auth_url": "https://mc.example.com/",
            "report_storage": "native",
            "salt_key": SALT,
            "salt_key_name": "bad name",
        }
        bad = await http.post("/marketing-cloud", data=form)
        assert bad.status_code == 422 and 'data-error-for="salt_key_name"' in bad.text
        assert SALT not in bad.text  # the key is never sent back to the form
        added = await http.post("/marketing-cloud", data=form | {"salt_key_name": "sms-salt"})
        assert added.status_code == 303
        page = await http.get("/marketing-cloud/acme")
        assert "sms-salt" in page.text and SALT not in page.text
        # the page shows where an activity signing with that key is registered
        assert 'data-salt-endpoint="sms-salt"' in page.text
        assert "/journey/acme~sms-salt/message/" in page.text
    patched = await admin.patch(
        f"{UNITS}/acme", json={"salt_key": "0xabcdef", "salt_key_name": "push-salt"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["salt_key_names"] == ["push-salt", "sms-salt"]
    shown = patched.json()["salt_key_endpoints"]
    assert shown["push-salt"].endswith("/journey/acme~push-salt/message/")
    assert "abcdef" not in patched.text
    nameless = await admin.patch(f"{UNITS}/acme", json={"salt_key_name": "third"})
    assert (nameless.status_code, nameless.json()["error"]["field"]) == (422, "salt_key")
    dropped = await admin.delete(f"{UNITS}/acme/salt-keys/sms-salt")
    assert dropped.json()["salt_key_names"] == ["push-salt"]
    again = await admin.delete(f"{UNITS}/acme/salt-keys/sms-salt")
    assert again.status_code == 404
    async with store.engine.connect() as conn:
        sealed = (await conn.execute(sa.select(business_units.c.salt_key_sealed))).scalar_one()
    assert "push-salt" not in sealed and "abcdef" not in sealed


async def test_the_add_form_shows_a_taken_name_and_mid_beside_the_other_fields_errors(
    client: ClientFactory, users: Users, store: SqlPeopleStore
) -> None:
    """A name and a MID another unit has are not held back until the rest is right."""
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        token = csrf_of((await http.get("/marketing-cloud")).text)
        form = {
            "csrf_token": token,
            "name": "acme",
            "mid": "510000042",
            "client_id": "cid",
            "client_secret": SECRET,
            "auth_url": "https://mc.example.com/",
            "report_storage": "native",
        }
        assert (await http.post("/marketing-cloud", data=form)).status_code == 303
        again = await http.post("/marketing-cloud", data=form | {"salt_key": "0xnot-hex"})
        assert again.status_code == 422
        shown = set(re.findall(r'data-error-for="([^"]+)"', again.text))
        assert shown == {"name", "mid", "salt_key"}
        assert "belongs to the business unit &#39;acme&#39;" in again.text
        edit_token = csrf_of((await http.get("/marketing-cloud/acme")).text)
        form["name"], form["mid"] = "beta", "510000043"
        assert (await http.post("/marketing-cloud", data=form)).status_code == 303
        edited = await http.post(
            "/marketing-cloud/beta",
            data=form | {"csrf_token": edit_token, "mid": "510000042", "salt_key": "0xzz"},
        )
        assert edited.status_code == 422
        assert set(re.findall(r'data-error-for="([^"]+)"', edited.text)) == {"mid", "salt_key"}
