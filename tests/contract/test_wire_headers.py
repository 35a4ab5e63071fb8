"""Header names on the wire, as a client that copies them into a plain dict sees them."""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import time
from typing import Any

API = "/services/data/v59.0"


def exchange(info: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A Bulk 2.0 query read one record a page; each response's headers as a plain dict."""
    context = ssl.create_default_context(cafile=info["ca_cert"])
    connection = http.client.HTTPSConnection(info["instance_url"].split("//")[1], context=context)
    auth = {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None) -> tuple[dict[str, str], bytes]:
        connection.request(method, path, json.dumps(body) if body else None, auth)
        response = connection.getresponse()
        raw = response.read()
        assert response.status < 300, raw
        # getheaders() keeps the names as they came in the bytes on the wire.
        return dict(response.getheaders()), raw

    seen: dict[str, dict[str, str]] = {}
    for name in ("One", "Two"):
        seen["create"], _ = call("POST", f"{API}/sobjects/Contact/", {"LastName": name})
    _, raw = call(
        "POST", f"{API}/jobs/query", {"operation": "query", "query": "SELECT Id FROM Contact"}
    )
    job = json.loads(raw)["id"]
    for _ in range(600):
        _, raw = call("GET", f"{API}/jobs/query/{job}")
        if json.loads(raw)["state"] == "JobComplete":
            break
        time.sleep(0.05)
    seen["first"], _ = call("GET", f"{API}/jobs/query/{job}/results?maxRecords=1")
    locator = seen["first"].get("Sforce-Locator", "")
    seen["last"], _ = call("GET", f"{API}/jobs/query/{job}/results?maxRecords=1&locator={locator}")
    connection.close()
    return seen


async def test_salesforce_header_names_are_spelled_as_salesforce_sends_them(
    served_org: dict[str, Any],
) -> None:
    seen = await asyncio.to_thread(exchange, served_org)
    first, last = seen["first"], seen["last"]
    assert first["Sforce-NumberOfRecords"] == "1"
    assert first["Sforce-Locator"] not in ("", "null")
    assert (last["Sforce-NumberOfRecords"], last["Sforce-Locator"]) == ("1", "null")
    assert first["Content-Type"].startswith("text/csv")
    assert first["Sforce-Limit-Info"].startswith("api-usage=")
    assert "Date" in first and "server" not in {name.lower() for name in first}
    assert seen["create"]["Content-Type"].startswith("application/json")
    assert all(name[0].isupper() for name in (*first, *seen["create"]))
