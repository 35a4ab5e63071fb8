"""Errors the web app and the REST API give point at a page or an endpoint, never at a
command only the CLI has; Marketing Cloud 404s name the field."""

from __future__ import annotations

import httpx

from peoplesync.people.sql_store import SqlPeopleStore

UNITS = "/api/v1/marketing-cloud/units"


def _hint(response: httpx.Response) -> str:
    hint: str = response.json()["error"]["hint"]
    assert "peoplesync " not in hint, hint  # a CLI command
    return hint


async def test_marketing_cloud_404s_name_the_field_and_point_at_the_api(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    for response in (
        await admin.get(f"{UNITS}/nope"),
        await admin.delete(f"{UNITS}/nope"),
        await admin.delete(f"{UNITS}/nope/salt-keys/x"),
        await admin.post(f"{UNITS}/nope/test"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["field"] == "name"
        assert "GET /api/v1/marketing-cloud/units" in _hint(response)


async def test_provider_account_and_attribute_errors_point_at_the_web_app(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    body = {"name": "main", "base_url": "https://x.api.example.com", "api_key": "k"}
    assert (await admin.post("/api/v1/provider-accounts", json=body)).status_code == 201
    again = await admin.post("/api/v1/provider-accounts", json=body)
    assert again.status_code == 422
    assert "DELETE /api/v1/provider-accounts/NAME" in _hint(again)
    senders = await admin.get("/api/v1/provider-accounts/nope/senders")
    assert senders.status_code == 404, senders.text
    assert "Providers" in _hint(senders)
    unknown = await admin.post("/api/v1/persons", json={"values": {"favourite": "x"}})
    assert unknown.status_code == 422
    assert "POST /api/v1/attributes" in _hint(unknown)


async def test_the_cli_keeps_its_command_hints(store: SqlPeopleStore) -> None:
    from peoplesync.errors import UnknownAttributeError

    error = UnknownAttributeError("no attribute 'favourite'", field="favourite")
    assert "peoplesync attributes add" in error.hint
    assert "peoplesync attributes add" in str(error)
