"""SOQL over REST: every construct, paging, errors."""

from __future__ import annotations

import pytest

from .conftest import API, Org


async def seed(org: Org) -> dict[str, str]:
    acme = await org.create("Account", Name="Acme", Industry="Retail")
    globex = await org.create("Account", Name="Globex")
    ids = {
        "ann": await org.create(
            "Contact",
            FirstName="Ann",
            LastName="Zed",
            Email="Ann@Acme.com",
            AccountId=acme,
            Birthdate="1990-05-01",
        ),
        "bob": await org.create(
            "Contact", FirstName="Bob", LastName="Young", Email="bob_1@acme.com", AccountId=acme
        ),
        "cy": await org.create(
            "Contact", FirstName="Cy", LastName="Xu", AccountId=globex, Title="100% boss"
        ),
        "dee": await org.create("Contact", LastName="Woo"),
    }
    org.clock.advance(days=2)
    await org.client.patch(f"{API}/sobjects/Contact/{ids['dee']}", json={"Email": "dee@globex.com"})
    return {**ids, "acme": acme, "globex": globex}


def names(body: dict[str, object]) -> list[str]:
    return [r["LastName"] for r in body["records"]]  # type: ignore[index, union-attr]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'ann@acme.com'", ["Zed"]),  # = on text ignores case
        ("Email != 'ann@acme.com'", ["Young", "Xu", "Woo"]),  # != keeps nulls
        ("Email = null", ["Xu"]),
        ("Email != null AND Account.Name = 'Acme'", ["Zed", "Young"]),
        ("Email LIKE '%@ACME.com'", ["Zed", "Young"]),
        ("Email LIKE 'bob\\_%'", ["Young"]),
        ("Title LIKE '100\\% %'", ["Xu"]),
        ("LastName IN ('Zed', 'Xu')", ["Zed", "Xu"]),
        ("LastName NOT IN ('Zed', 'Xu')", ["Young", "Woo"]),
        ("NOT (LastName = 'Zed' OR LastName = 'Young')", ["Xu", "Woo"]),
        ("Account.Industry = 'Retail' AND (FirstName = 'Ann' OR FirstName = 'Cy')", ["Zed"]),
        ("Birthdate < 2000-01-01", ["Zed"]),
        ("LastModifiedDate = TODAY", ["Woo"]),
        ("CreatedDate = LAST_N_DAYS:1", []),
        ("CreatedDate = LAST_N_DAYS:3", ["Zed", "Young", "Xu", "Woo"]),
        ("CreatedDate < 2026-11-25T00:00:00Z", ["Zed", "Young", "Xu", "Woo"]),
        ("SystemModstamp > 2026-11-25T00:00:00+02:00", ["Woo"]),
        ("IsDeleted = false AND Id IN (SELECT ContactId FROM CampaignMember)", []),
    ],
)
async def test_where_constructs(org: Org, where: str, expected: list[str]) -> None:
    await seed(org)
    body = await org.query(
        f"SELECT LastName FROM Contact WHERE {where} ORDER BY CreatedDate, LastName DESC"
    )
    assert sorted(names(body)) == sorted(expected)
    assert body["totalSize"] == len(expected)


async def test_relationships_order_limit_offset(org: Org) -> None:
    await seed(org)
    body = await org.query(
        "select lastname, account.name from contact order by account.name desc nulls last, lastname limit 2 offset 1"
    )
    records = body["records"]
    assert [r["LastName"] for r in records] == ["Young", "Zed"]  # Globex, then Acme (Young < Zed)
    assert records[0]["Account"]["Name"] == "Acme"
    assert records[0]["Account"]["attributes"]["type"] == "Account"
    nulls_first = await org.query(
        "SELECT LastName, Account.Name FROM Contact ORDER BY Account.Name NULLS FIRST LIMIT 1"
    )
    assert nulls_first["records"][0]["Account"] is None
    assert list(nulls_first["records"][0]) == ["attributes", "LastName", "Account"]


async def test_includes_excludes_on_multipicklists(org: Org) -> None:
    await org.client.post(
        "/sandbox/admin/custom-fields",
        json={
            "sobject": "Lead",
            "name": "Topics__c",
            "kind": "multipicklist",
            "picklist": ["a", "b", "c"],
        },
    )
    for name, topics in (("One", "a;b"), ("Two", "c"), ("Three", None)):
        await org.create("Lead", LastName=name, Company="X", Topics__c=topics)
    both = await org.query("SELECT LastName FROM Lead WHERE Topics__c INCLUDES ('a;b', 'x')")
    assert names(both) == ["One"]
    either = await org.query(
        "SELECT LastName FROM Lead WHERE Topics__c INCLUDES ('b', 'c') ORDER BY LastName"
    )
    assert names(either) == ["One", "Two"]
    without = await org.query(
        "SELECT LastName FROM Lead WHERE Topics__c EXCLUDES ('c') ORDER BY LastName"
    )
    assert names(without) == ["One", "Three"]


async def test_paging_with_batch_size_and_next_records_url(org: Org) -> None:
    payload = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Lead"}, "LastName": f"L{i:03d}", "Company": "C"}
            for i in range(200)
        ],
    }
    for _ in range(3):
        response = await org.client.post(f"{API}/composite/sobjects", json=payload)
        assert all(r["success"] for r in response.json())
    first = await org.query(
        "SELECT Id, LastName FROM Lead ORDER BY LastName",
        **{"Sforce-Query-Options": "batchSize=250"},
    )
    assert first["totalSize"] == 600
    assert first["done"] is False
    assert len(first["records"]) == 250
    seen = [r["Id"] for r in first["records"]]
    url = first["nextRecordsUrl"]
    while url:
        page = (await org.client.get(url, headers={"Sforce-Query-Options": "batchSize=250"})).json()
        seen += [r["Id"] for r in page["records"]]
        url = page.get("nextRecordsUrl")
        assert page["done"] is (url is None)
    assert len(seen) == len(set(seen)) == 600
    expired = await org.client.get(f"{API}/query/01g8d000000000AAAA-2000")
    assert expired.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Spaceship", "INVALID_TYPE"),
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE Foo__r.Name = 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Id Lead", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE Name = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE IsConverted = 'true'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE CreatedDate = 2024-01-01", "INVALID_FIELD"),
        ("SELECT Id FROM Lead OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
        ("SELECT Id FROM Lead WHERE Email INCLUDES ('a')", "INVALID_FIELD"),
    ],
)
async def test_query_errors(org: Org, soql: str, code: str) -> None:
    response = await org.client.get(f"{API}/query/", params={"q": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code
