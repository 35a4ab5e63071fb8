"""aiosfstream-ng, unchanged, receives Change Data Capture events from the sandbox org."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp.connector
import httpx
from aiosfstream_ng import Client, PasswordAuthenticator, ReplayOption

API = "/services/data/v59.0"


def trust(ca_cert: str) -> ssl.SSLContext:
    """Make aiohttp (the client's HTTP stack) trust the org's CA, as installing it would."""
    aiohttp.connector._SSL_CONTEXT_VERIFIED.load_verify_locations(ca_cert)
    return ssl.create_default_context(cafile=ca_cert)


def authenticator(info: dict[str, Any]) -> PasswordAuthenticator:
    class LocalPasswordAuthenticator(PasswordAuthenticator):  # type: ignore[misc]
        @property
        def _token_url(self) -> str:
            return f"{info['login_url']}/services/oauth2/token"

    return LocalPasswordAuthenticator(
        consumer_key=info["client_id"],
        consumer_secret=info["client_secret"],
        username=info["username"],
        password=info["password"],
    )


async def test_subscriber_receives_one_event_per_edit(served_org: dict[str, Any]) -> None:
    context = trust(served_org["ca_cert"])
    headers = {"Authorization": f"Bearer {served_org['token']}"}
    async with (
        httpx.AsyncClient(
            base_url=served_org["instance_url"], verify=context, headers=headers
        ) as rest,
        Client(authenticator(served_org)) as client,
    ):
        client.ssl = context
        await client.subscribe("/data/LeadChangeEvent")
        created = await rest.post(
            f"{API}/sobjects/Lead/",
            json={"FirstName": "Eve", "LastName": "Stream", "Company": "CDC Inc"},
        )
        lead_id = created.json()["id"]
        await rest.patch(f"{API}/sobjects/Lead/{lead_id}", json={"Email": "eve@cdc.example"})
        await rest.post(f"{API}/sobjects/Contact/", json={"LastName": "Other channel"})
        first = await asyncio.wait_for(client.receive(), 20)
        second = await asyncio.wait_for(client.receive(), 20)
    header = first["data"]["payload"]["ChangeEventHeader"]
    assert first["channel"] == "/data/LeadChangeEvent"
    assert header["changeType"] == "CREATE"
    assert header["recordIds"] == [lead_id]
    assert header["commitUser"] == served_org["config"].user_id
    assert first["data"]["payload"]["Name"] == {"FirstName": "Eve", "LastName": "Stream"}
    update = second["data"]["payload"]
    assert update["ChangeEventHeader"]["changeType"] == "UPDATE"
    assert "Email" in update["ChangeEventHeader"]["changedFields"]
    assert update["Email"] == "eve@cdc.example"
    assert update["LastModifiedDate"].endswith("Z")
    assert second["data"]["event"]["replayId"] > first["data"]["event"]["replayId"]


async def test_replay_all_retained_events(served_org: dict[str, Any]) -> None:
    context = trust(served_org["ca_cert"])
    headers = {"Authorization": f"Bearer {served_org['token']}"}
    async with httpx.AsyncClient(
        base_url=served_org["instance_url"], verify=context, headers=headers
    ) as rest:
        for name in ("One", "Two"):
            await rest.post(f"{API}/sobjects/Account/", json={"Name": name})
    async with Client(authenticator(served_org), replay=ReplayOption.ALL_EVENTS) as client:
        client.ssl = context
        await client.subscribe("/data/ChangeEvents")
        received = [await asyncio.wait_for(client.receive(), 20) for _ in range(2)]
    assert [m["data"]["payload"]["Name"] for m in received] == ["One", "Two"]
    assert all(
        m["data"]["payload"]["ChangeEventHeader"]["entityName"] == "Account" for m in received
    )
