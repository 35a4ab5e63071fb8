"""Bulk API 1.0 reply formats, read the way extractors read them (requests + an XML parser).

Singer's tap-salesforce creates a CSV query job with a JSON body, then parses batch replies as
XML: Salesforce answers batch calls in the job's content type, whatever the job was created in.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import xml.etree.ElementTree as ElementTree
from typing import Any

import requests

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


def _xml(response: requests.Response) -> ElementTree.Element:
    assert response.headers["Content-Type"] == "application/xml", response.text
    return ElementTree.fromstring(response.content)  # noqa: S314 - the test's own org


def extract(info: dict[str, Any]) -> dict[str, Any]:
    base = f"{info['instance_url']}/services/async/61.0"
    session = requests.Session()
    session.headers["X-SFDC-Session"] = info["token"]
    for i in range(3):
        session.post(
            f"{info['instance_url']}/services/data/v61.0/sobjects/Contact/",
            json={"LastName": f"Extract {i}"},
        ).raise_for_status()
    created = session.post(
        f"{base}/job",
        json={"operation": "queryAll", "object": "Contact", "contentType": "CSV"},
    )
    seen: dict[str, Any] = {"job": created.json()}  # a JSON body gets a JSON jobInfo
    job = seen["job"]["id"]
    posted = session.post(
        f"{base}/job/{job}/batch",
        data="SELECT Id, LastName FROM Contact ORDER BY LastName",
        headers={"Content-Type": "text/csv"},
    )
    batch = _xml(posted).findtext(f"{NS}id")
    seen["first_state"] = _xml(posted).findtext(f"{NS}state")
    states = [seen["first_state"]]
    while states[-1] not in ("Completed", "Failed"):
        time.sleep(0.05)
        states.append(_xml(session.get(f"{base}/job/{job}/batch/{batch}")).findtext(f"{NS}state"))
    seen["states"] = states
    listed = _xml(session.get(f"{base}/job/{job}/batch"))
    seen["listed"] = [b.findtext(f"{NS}id") for b in listed.iter(f"{NS}batchInfo")]
    results = _xml(session.get(f"{base}/job/{job}/batch/{batch}/result"))
    (result,) = [r.text for r in results.iter(f"{NS}result")]
    rows = session.get(f"{base}/job/{job}/batch/{batch}/result/{result}")
    seen["rows"] = list(csv.DictReader(io.StringIO(rows.text)))
    closed = session.post(f"{base}/job/{job}", json={"state": "Closed"})
    seen["closed"] = closed.json()
    return seen


async def test_a_csv_job_created_in_json_answers_its_batches_in_xml(
    served_org: dict[str, Any],
) -> None:
    seen = await asyncio.to_thread(extract, served_org)
    assert (seen["job"]["contentType"], seen["job"]["state"]) == ("CSV", "Open")
    assert seen["first_state"] == "Queued"  # the org takes its time, as a real one does
    assert seen["states"][-1] == "Completed"
    assert len(seen["listed"]) == 1
    assert [r["LastName"] for r in seen["rows"]] == ["Extract 0", "Extract 1", "Extract 2"]
    assert seen["closed"]["state"] == "Closed"
