"""sObject Collections, Composite, limits and fault knobs."""

from __future__ import annotations

from pathlib import Path

from .conftest import API, Org, open_org


async def test_collections_all_or_none_and_upsert(org: Org) -> None:
    records = [
        {"attributes": {"type": "Contact"}, "LastName": "Good"},
        {"attributes": {"type": "Contact"}, "Email": "no-last-name@example.com"},
    ]
    rolled = (
        await org.client.post(
            f"{API}/composite/sobjects", json={"allOrNone": True, "records": records}
        )
    ).json()
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert (await org.query("SELECT COUNT() FROM Contact"))["totalSize"] == 0
    partial = (
        await org.client.post(
            f"{API}/composite/sobjects", json={"allOrNone": False, "records": records}
        )
    ).json()
    assert [r["success"] for r in partial] == [True, False]
    contact_id = partial[0]["id"]
    updated = await org.client.patch(
        f"{API}/composite/sobjects",
        json={"records": [{"attributes": {"type": "Contact"}, "id": contact_id, "Title": "CTO"}]},
    )
    assert updated.json() == [{"id": contact_id, "success": True, "errors": []}]
    upserted = await org.client.patch(
        f"{API}/composite/sobjects/Contact/Id",
        json={"records": [{"attributes": {"type": "Contact"}, "Id": contact_id, "Title": "CEO"}]},
    )
    assert upserted.json() == [{"id": contact_id, "success": True, "errors": [], "created": False}]
    fetched = (
        await org.client.get(
            f"{API}/composite/sobjects/Contact", params={"ids": contact_id, "fields": "Title"}
        )
    ).json()
    assert fetched[0]["Title"] == "CEO"
    too_many = [{"attributes": {"type": "Contact"}, "LastName": "x"}] * 201
    refused = await org.client.post(f"{API}/composite/sobjects", json={"records": too_many})
    assert refused.status_code == 400
    deleted = (
        await org.client.delete(f"{API}/composite/sobjects", params={"ids": contact_id})
    ).json()
    assert deleted == [{"id": contact_id, "success": True, "errors": []}]


async def test_composite_references_and_batch(org: Org) -> None:
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{API}/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Ref Co"},
            },
            {
                "method": "POST",
                "url": f"{API}/sobjects/Contact",
                "referenceId": "ct",
                "body": {"LastName": "Ref", "AccountId": "@{acct.id}"},
            },
            {"method": "GET", "url": f"{API}/sobjects/Contact/@{{ct.id}}", "referenceId": "read"},
            {
                "method": "GET",
                "url": f"{API}/sobjects/Contact/003000000000000AAA",
                "referenceId": "missing",
            },
        ],
    }
    answer = (await org.client.post(f"{API}/composite", json=body)).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [201, 201, 200, 404]
    assert answer[2]["body"]["AccountId"] == answer[0]["body"]["id"]
    assert answer[0]["httpHeaders"]["Location"].endswith(answer[0]["body"]["id"])
    batch = await org.client.post(
        f"{API}/composite/batch",
        json={
            "batchRequests": [
                {"method": "GET", "url": "v59.0/sobjects/Lead/describe"},
                {"method": "GET", "url": "v59.0/sobjects/Nope/describe"},
            ]
        },
    )
    result = batch.json()
    assert result["hasErrors"] is True
    assert result["results"][0]["result"]["name"] == "Lead"
    assert result["results"][1]["statusCode"] == 404


async def test_daily_allowance_is_counted_and_enforced(tmp_path: Path) -> None:
    async for org in open_org(tmp_path, api_daily_limit=5):
        for _ in range(5):
            response = await org.client.get(f"{API}/limits")
            assert response.status_code == 200
        assert response.headers["Sforce-Limit-Info"] == "api-usage=5/5"
        assert response.json()["DailyApiRequests"] == {"Max": 5, "Remaining": 0}
        refused = await org.client.get(f"{API}/limits")
        assert refused.status_code == 403
        assert refused.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        org.clock.advance(days=1)
        assert (await org.client.get(f"{API}/limits")).status_code == 200


async def test_fault_knobs_inject_503_and_lock_errors(org: Org) -> None:
    set_knobs = await org.client.put("/sandbox/admin/knobs", json={"rate_503": 1.0})
    assert set_knobs.json()["rate_503"] == 1.0
    failed = await org.client.get(f"{API}/limits")
    assert failed.status_code == 503
    assert failed.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    await org.client.put("/sandbox/admin/knobs", json={"rate_503": 0.0, "rate_lock_error": 1.0})
    locked = await org.client.post(f"{API}/sobjects/Account/", json={"Name": "x"})
    assert locked.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert (await org.client.get(f"{API}/limits")).status_code == 200  # reads are not locked
    await org.client.put("/sandbox/admin/knobs", json={"rate_lock_error": 0.0})
    log = (await org.client.get("/sandbox/admin/requests")).json()
    assert [
        (e["method"], e["status"]) for e in log if e["path"].endswith("/sobjects/Account/")
    ] == [("POST", 400)]
    bad = await org.client.put("/sandbox/admin/knobs", json={"warp_speed": 9})
    assert bad.status_code == 400


async def test_org_persists_across_restarts(tmp_path: Path) -> None:
    async for org in open_org(tmp_path):
        lead_id = await org.create("Lead", LastName="Persist", Company="Disk")
        await org.client.post(
            "/sandbox/admin/custom-fields",
            json={"sobject": "Lead", "name": "Score__c", "kind": "double"},
        )
    async for org in open_org(tmp_path):
        body = await org.query("SELECT Id, Score__c FROM Lead")
        assert [r["Id"] for r in body["records"]] == [lead_id]
        assert body["records"][0]["Score__c"] is None
        second = await org.create("Lead", LastName="Next", Company="Disk")
        assert second != lead_id


async def test_latency_and_timeout_knobs(org: Org) -> None:
    import time

    await org.client.put("/sandbox/admin/knobs", json={"latency_ms": 150})
    started = time.perf_counter()
    assert (await org.client.get(f"{API}/limits")).status_code == 200
    assert time.perf_counter() - started >= 0.15
    await org.client.put(
        "/sandbox/admin/knobs", json={"latency_ms": 0, "rate_timeout": 1.0, "timeout_seconds": 0.05}
    )
    timed_out = await org.client.get(f"{API}/limits")
    assert timed_out.status_code == 504
    assert timed_out.json()[0]["errorCode"] == "REQUEST_RUNNING_TOO_LONG"


async def test_faults_are_deterministic_under_the_seed(tmp_path: Path) -> None:
    outcomes = []
    for run in range(2):
        async for org in open_org(tmp_path / str(run), seed=11):
            await org.client.put("/sandbox/admin/knobs", json={"rate_503": 0.5})
            outcomes.append(
                [(await org.client.get(f"{API}/limits")).status_code for _ in range(20)]
            )
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


async def test_long_running_request_cap(tmp_path: Path) -> None:
    async for org in open_org(tmp_path, max_concurrent_long_requests=1):
        usage = org.app.state.org.usage
        async with usage.long_running:  # another long request is running
            refused = await org.client.get(f"{API}/query/", params={"q": "SELECT Id FROM Lead"})
        assert refused.status_code == 503
        assert "ConcurrentPerOrgLongTxn" in refused.json()[0]["message"]
        assert (
            await org.client.get(f"{API}/query/", params={"q": "SELECT Id FROM Lead"})
        ).status_code == 200


async def test_a_composite_call_counts_once_toward_the_allowance(tmp_path: Path) -> None:
    async for org in open_org(tmp_path, api_daily_limit=10):
        emails = ", ".join(f"'someone{i}@example.com'" for i in range(2000))
        subrequests = [
            {
                "method": "GET",
                "url": f"{API}/query?q=SELECT+Id+FROM+Lead+WHERE+Email+IN+({emails})",
                "referenceId": "long",
            },
            {
                "method": "POST",
                "url": f"{API}/sobjects/Lead",
                "referenceId": "lead",
                "body": {"LastName": "Once", "Company": "Acme"},
            },
            {"method": "GET", "url": f"{API}/sobjects/Lead/@{{lead.id}}", "referenceId": "read"},
        ]
        response = await org.client.post(
            f"{API}/composite", json={"allOrNone": False, "compositeRequest": subrequests}
        )
        answers = response.json()["compositeResponse"]
        assert [a["httpStatusCode"] for a in answers] == [200, 201, 200]
        assert answers[0]["body"]["totalSize"] == 0
        assert answers[2]["body"]["LastName"] == "Once"
        assert response.headers["Sforce-Limit-Info"] == "api-usage=1/10"
        # The subrequests are still in the request log, after the token request.
        log = (await org.client.get("/sandbox/admin/requests")).json()
        lead_id = answers[1]["body"]["id"]
        paths = [(e["method"], e["path"]) for e in log if e["path"].startswith(API)]
        assert paths == [
            ("GET", f"{API}/query"),
            ("POST", f"{API}/sobjects/Lead"),
            ("GET", f"{API}/sobjects/Lead/{lead_id}"),
            ("POST", f"{API}/composite"),
        ]


async def test_composite_subrequest_urls_may_hold_unencoded_text(org: Org) -> None:
    subrequests = [
        {
            "method": "POST",
            "url": f"{API}/sobjects/Lead",
            "referenceId": "lead",
            "body": {"LastName": "Müller", "Company": "Straße & Co"},
        },
        {
            "method": "GET",
            "url": f"{API}/query?q=SELECT Id, Company FROM Lead WHERE LastName = 'Müller'",
            "referenceId": "found",
        },
    ]
    response = await org.client.post(
        f"{API}/composite", json={"allOrNone": True, "compositeRequest": subrequests}
    )
    created, found = response.json()["compositeResponse"]
    assert found["httpStatusCode"] == 200, found
    assert [r["Id"] for r in found["body"]["records"]] == [created["body"]["id"]]
    assert found["body"]["records"][0]["Company"] == "Straße & Co"
