"""Open query cursors, through simple-salesforce: an abandoned one must not freeze reads."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
from simple_salesforce import Salesforce

PAGED = {"Sforce-Query-Options": "batchSize=200"}


def client(info: dict[str, Any]) -> Salesforce:
    session = requests.Session()
    session.verify = info["ca_cert"]
    return Salesforce(
        instance_url=info["instance_url"], session_id=info["token"], session=session, version="59.0"
    )


def create_leads(sf: Salesforce, count: int, prefix: str) -> None:
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Lead"}, "LastName": f"{prefix}{i:04d}", "Company": "Paged"}
            for i in range(start, min(start + 200, count))
        ]
        sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )


def names(body: dict[str, Any]) -> list[str]:
    return [str(r["LastName"]) for r in body["records"]]


def abandon_then_write(info: dict[str, Any]) -> dict[str, Any]:
    sf = client(info)
    create_leads(sf, 1000, "Paged")
    seen: dict[str, Any] = {}
    soql = "SELECT LastName FROM Lead WHERE Company = 'Paged' ORDER BY LastName"
    abandoned = sf.query(soql, headers=PAGED)  # first page only; nextRecordsUrl never followed
    kept = sf.query(soql, headers=PAGED)  # this one is read to the end, after the writes
    seen["abandoned_first"] = abandoned
    created = sf.Lead.create({"LastName": "Afterwards", "Company": "Later"})
    seen["found"] = sf.query("SELECT Id FROM Lead WHERE LastName = 'Afterwards'")
    seen["count"] = sf.query("SELECT COUNT() FROM Lead")
    sf.Lead.delete(created["id"])
    seen["after_delete"] = sf.query("SELECT Id FROM Lead WHERE LastName = 'Afterwards'")
    seen["deleted"] = sf.query_all(
        "SELECT Id, IsDeleted FROM Lead WHERE LastName = 'Afterwards'", include_deleted=True
    )
    create_leads(sf, 5, "Late")  # sorts before "Paged": a live re-read would shift the pages
    pages = [names(kept)]
    while not kept["done"]:
        kept = sf.query_more(kept["nextRecordsUrl"], identifier_is_url=True, headers=PAGED)
        pages.append(names(kept))
    seen["kept_pages"] = pages
    seen["kept_total"] = kept["totalSize"]
    seen["paged_now"] = sf.query_all(soql.replace("'Paged'", "'Paged' OR Company = 'Later'"))
    return seen


async def test_abandoned_cursor_does_not_freeze_later_queries(
    served_org: dict[str, Any],
) -> None:
    seen = await asyncio.to_thread(abandon_then_write, served_org)
    assert seen["abandoned_first"]["done"] is False
    assert len(seen["abandoned_first"]["records"]) == 200
    assert seen["found"]["totalSize"] == 1, "a Lead created after the abandoned query"
    assert seen["count"]["totalSize"] == 1001
    assert seen["after_delete"]["totalSize"] == 0
    assert [r["IsDeleted"] for r in seen["deleted"]["records"]] == [True]
    # The cursor read after the writes keeps its own snapshot: all 1000, in order, once each.
    pages = seen["kept_pages"]
    assert [len(p) for p in pages] == [200] * 5
    assert [n for page in pages for n in page] == [f"Paged{i:04d}" for i in range(1000)]
    assert seen["kept_total"] == 1000
    assert seen["paged_now"]["totalSize"] == 1005
