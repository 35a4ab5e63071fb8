"""REST API of messaging: provider accounts and sender names, sending, listing and one message
with its trail. Errors name the field; API keys are never given back."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from peoplesync.messaging.tables import provider_accounts
from peoplesync.people.sql_store import SqlPeopleStore
from tests.unit.messaging.test_channel_validation import VALID

KEY = "key-that-must-never-come-back"


async def _account(admin: httpx.AsyncClient, name: str = "main") -> None:
    body = {"name": name, "base_url": "https://x.api.example.com/", "api_key": KEY}
    added = await admin.post("/api/v1/provider-accounts", json=body)
    assert added.status_code == 201, added.text


async def test_provider_accounts_are_added_listed_and_never_show_their_key(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    empty = await admin.post(
        "/api/v1/provider-accounts", json={"name": "", "base_url": "", "api_key": ""}
    )
    assert empty.status_code == 422
    assert empty.json()["error"]["field"] == "name"
    bad_url = await admin.post(
        "/api/v1/provider-accounts",
        json={"name": "main", "base_url": "x.api.example.com", "api_key": KEY},
    )
    assert (bad_url.status_code, bad_url.json()["error"]["field"]) == (422, "base_url")
    no_key = await admin.post(
        "/api/v1/provider-accounts",
        json={"name": "main", "base_url": "https://x.api.example.com", "api_key": " "},
    )
    assert (no_key.status_code, no_key.json()["error"]["field"]) == (422, "api_key")
    await _account(admin)
    again = await admin.post(
        "/api/v1/provider-accounts",
        json={"name": "main", "base_url": "https://y.example.com", "api_key": "k"},
    )
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "ACCOUNT_EXISTS"
    assert again.json()["error"]["field"] == "name"
    refused = await viewer.post(
        "/api/v1/provider-accounts",
        json={"name": "v", "base_url": "https://y.example.com", "api_key": "k"},
    )
    assert refused.status_code == 403
    listed = await viewer.get("/api/v1/provider-accounts")
    assert listed.json()["items"] == [
        {
            "name": "main",
            "kind": "infobip",
            "base_url": "https://x.api.example.com",
            "created_at": listed.json()["items"][0]["created_at"],
            "senders": {},
        }
    ]
    assert KEY not in listed.text
    async with store.engine.connect() as conn:
        sealed = (await conn.execute(sa.select(provider_accounts.c.api_key_sealed))).scalar_one()
    assert KEY not in sealed


async def test_sender_names_per_channel(admin: httpx.AsyncClient) -> None:
    await _account(admin)
    base = "/api/v1/provider-accounts/main/senders"
    assert (await admin.post(base, json={"channel": "sms", "sender": "InfoSMS"})).status_code == 201
    added = await admin.post(base, json={"channel": "sms", "sender": "Backup"})
    assert added.json() == {"sms": ["InfoSMS", "Backup"]}
    long = await admin.post(base, json={"channel": "sms", "sender": "x" * 16})
    assert (long.status_code, long.json()["error"]["field"]) == (422, "sender")
    assert "at most 15" in long.json()["error"]["message"]
    twice = await admin.post(base, json={"channel": "sms", "sender": "InfoSMS"})
    assert twice.json()["error"]["code"] == "SENDER_EXISTS"
    unknown = await admin.post(base, json={"channel": "pigeon", "sender": "Coo"})
    assert unknown.json()["error"]["field"] == "channel"
    nobody = await admin.post(
        "/api/v1/provider-accounts/none/senders", json={"channel": "sms", "sender": "A"}
    )
    assert nobody.status_code == 404
    removed = await admin.delete(f"{base}/sms/InfoSMS")
    assert removed.json() == {"sms": ["Backup"]}
    assert (await admin.delete(f"{base}/sms/InfoSMS")).status_code == 404


async def test_send_list_and_show_a_message(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    no_account = await admin.post("/api/v1/messages", json={"to": "+385911234567", "text": "Hi"})
    assert no_account.status_code == 422
    assert no_account.json()["error"]["field"] == "account"
    await _account(admin)
    await admin.post(
        "/api/v1/provider-accounts/main/senders", json={"channel": "sms", "sender": "InfoSMS"}
    )
    too_long = await admin.post(
        "/api/v1/messages", json={"to": "+385911234567", "text": "a" * (153 * 25 + 1)}
    )
    assert too_long.status_code == 422
    assert too_long.json()["messageStatus"] == "Error: Invalid text length"
    assert too_long.json()["error"]["field"] == "text"
    no_phone = await admin.post("/api/v1/messages", json={"to": "", "text": "Hi"})
    assert no_phone.json()["messageStatus"] == "Error: Missing phone number in request"
    assert (await admin.get("/api/v1/messages")).json()["items"] == []  # refusals not stored

    ids = []
    for number in ("+385 91 111 0001", "+385 91 111 0002", "+44 7700 900003"):
        sent = await admin.post("/api/v1/messages", json={"to": number, "text": "Hello"})
        assert sent.status_code == 201, sent.text
        assert sent.json()["request"]["from"] == "InfoSMS"  # the account's sender name
        assert sent.json()["state"] == "queued"
        ids.append(sent.json()["message_id"])
    same = await admin.post(
        "/api/v1/messages", json={"to": "+385911110009", "text": "x", "idempotency_key": "k1"}
    )
    again = await admin.post(
        "/api/v1/messages", json={"to": "+385911110009", "text": "x", "idempotency_key": "k1"}
    )
    assert (same.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert again.json()["message_id"] == same.json()["message_id"]
    own = await admin.post(
        "/api/v1/messages", json={"to": "+385911110008", "text": "x", "from": "Other"}
    )
    assert own.json()["request"]["from"] == "Other"

    croatian = await viewer.get("/api/v1/messages", params={"number": "+385 91 111"})
    assert [m["to"] for m in croatian.json()["items"]] == [
        "385911110008",
        "385911110009",
        "385911110002",
        "385911110001",
    ]
    first = await viewer.get("/api/v1/messages", params={"limit": 2})
    assert len(first.json()["items"]) == 2 and first.json()["next"]
    rest = await viewer.get("/api/v1/messages", params={"limit": 2, "after": first.json()["next"]})
    shown = [m["message_id"] for m in first.json()["items"] + rest.json()["items"]]
    assert len(set(shown)) == 4
    more = await viewer.get("/api/v1/messages", params={"limit": 2, "after": rest.json()["next"]})
    assert [m["message_id"] for m in more.json()["items"]] == [ids[0]]
    assert more.json()["next"] is None
    none = await viewer.get("/api/v1/messages", params={"channel": "viber"})
    assert none.json()["items"] == []
    bad = await viewer.get("/api/v1/messages", params={"state": "lost"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "state")

    one = await viewer.get(f"/api/v1/messages/{ids[2]}")
    assert one.json()["to"] == "447700900003"
    assert [e["kind"] for e in one.json()["events"]] == ["queued"]
    assert one.json()["error"] is None
    assert (await viewer.get("/api/v1/messages/nope")).status_code == 404
    assert (await viewer.post("/api/v1/messages", json={"to": "+1", "text": "x"})).status_code == (
        403
    )


async def test_an_account_with_waiting_messages_is_removed_only_when_forced(
    admin: httpx.AsyncClient,
) -> None:
    await _account(admin)
    await admin.post(
        "/api/v1/provider-accounts/main/senders", json={"channel": "sms", "sender": "InfoSMS"}
    )
    await admin.post("/api/v1/messages", json={"to": "+385911234567", "text": "Hi"})
    refused = await admin.delete("/api/v1/provider-accounts/main")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "CONFIRMATION_REQUIRED"
    assert "1 message(s) wait" in refused.json()["error"]["message"]
    forced = await admin.delete("/api/v1/provider-accounts/main", params={"force": "true"})
    assert forced.json() == {"name": "main", "removed": True}
    assert (await admin.get("/api/v1/provider-accounts")).json()["items"] == []
    await _account(admin)  # added again: the old sender names are gone with the old account
    assert (await admin.get("/api/v1/provider-accounts/main/senders")).json() == {}
    assert (await admin.delete("/api/v1/provider-accounts/none")).status_code == 404


async def test_openapi_documents_the_messaging_endpoints(viewer: httpx.AsyncClient) -> None:
    paths = (await viewer.get("/api/v1/openapi.json")).json()["paths"]
    assert set(paths["/messages"]) == {"get", "post"}
    assert set(paths["/provider-accounts"]) == {"get", "post"}
    assert "delete" in paths["/provider-accounts/{name}"]
    assert "/provider-accounts/{name}/senders/{channel}/{sender}" in paths
    assert "get" in paths["/messages/{message_id}"]


async def test_every_channel_is_sent_through_the_api_with_its_own_fields(
    admin: httpx.AsyncClient,
) -> None:
    await _account(admin)
    for channel, valid in VALID.items():
        fields = dict(valid)
        body: dict[str, object] = {"channel": channel.value, "to": fields.pop("to")}
        for key in ("text", "from"):
            if key in fields:
                body[key] = fields.pop(key)
        sent = await admin.post("/api/v1/messages", json=body | {"request": fields})
        assert sent.status_code == 201, (channel, sent.text)
        assert sent.json()["channel"] == channel.value
        assert {k: sent.json()["request"][k] for k in fields} == fields
    refused = await admin.post(
        "/api/v1/messages",
        json={"channel": "zalo", "to": "84912345678", "from": "oa", "request": {}},
    )
    assert refused.status_code == 422
    assert refused.json()["messageStatus"] == "Error: Invalid template name"
    assert refused.json()["error"]["field"] == "templateName"


async def test_a_message_naming_a_person_people_does_not_hold_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    await _account(admin)
    await admin.post(
        "/api/v1/provider-accounts/main/senders", json={"channel": "sms", "sender": "InfoSMS"}
    )
    body = {"to": "+385911234567", "text": "Hi", "person_id": "0" * 32}
    unknown = await admin.post("/api/v1/messages", json=body)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["field"] == "person_id"
    assert "no person has the id" in unknown.json()["error"]["message"]
    assert (await admin.get("/api/v1/messages")).json()["items"] == []  # nothing was queued

    person = await admin.post("/api/v1/persons", json={"emails": ["ana@example.com"]})
    assert person.status_code == 201, person.text
    known = await admin.post("/api/v1/messages", json=body | {"person_id": person.json()["id"]})
    assert known.status_code == 201, known.text
    assert known.json()["person_id"] == person.json()["id"]
