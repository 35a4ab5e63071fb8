"""sObject CRUD through REST with Salesforce's data rules and error codes."""

from __future__ import annotations

import pytest

from peoplesync.sandbox.salesforce.ids import is_valid_id

from .conftest import API, Org


async def test_create_read_update_delete_with_system_fields(org: Org) -> None:
    lead_id = await org.create(
        "Lead", FirstName="Ada", LastName="Lovelace", Company="Engines", Email="Ada@Example.com"
    )
    assert lead_id.startswith("00Q") and is_valid_id(lead_id) and len(lead_id) == 18
    record = (await org.client.get(f"{API}/sobjects/Lead/{lead_id}")).json()
    assert record["attributes"] == {"type": "Lead", "url": f"{API}/sobjects/Lead/{lead_id}"}
    assert record["Name"] == "Ada Lovelace"
    assert record["Status"] == "Open - Not Contacted"  # picklist default
    assert record["IsConverted"] is False
    assert record["OwnerId"] == org.config.user_id
    assert record["CreatedDate"] == "2026-11-24T12:00:00.000+0000"
    org.clock.advance(minutes=5)
    patched = await org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json={"City": "London"})
    assert patched.status_code == 204
    record = (
        await org.client.get(
            f"{API}/sobjects/Lead/{lead_id}", params={"fields": "City,SystemModstamp"}
        )
    ).json()
    assert record == {
        "attributes": record["attributes"],
        "City": "London",
        "SystemModstamp": "2026-11-24T12:05:00.000+0000",
    }
    assert (await org.client.delete(f"{API}/sobjects/Lead/{lead_id}")).status_code == 204
    gone = await org.client.get(f"{API}/sobjects/Lead/{lead_id}")
    assert gone.status_code == 404
    assert gone.json()[0]["errorCode"] == "NOT_FOUND"
    again = await org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json={"City": "Paris"})
    assert again.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


@pytest.mark.parametrize(
    ("sobject", "fields", "code", "field"),
    [
        ("Lead", {"LastName": "Doe"}, "REQUIRED_FIELD_MISSING", "Company"),
        ("Contact", {"FirstName": "No last name"}, "REQUIRED_FIELD_MISSING", "LastName"),
        ("Opportunity", {"Name": "Deal"}, "REQUIRED_FIELD_MISSING", "StageName"),
        ("Lead", {"LastName": "x" * 81, "Company": "A"}, "STRING_TOO_LONG", "LastName"),
        (
            "Lead",
            {"LastName": "Doe", "Company": "A", "Email": "not-an-email"},
            "INVALID_EMAIL_ADDRESS",
            "Email",
        ),
        ("Lead", {"LastName": "Doe", "Company": "A", "Shoe__c": 1}, "INVALID_FIELD", "Shoe__c"),
        (
            "Lead",
            {"LastName": "Doe", "Company": "A", "Name": "Full"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Name",
        ),
        (
            "Contact",
            {"LastName": "Doe", "AccountId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "AccountId",
        ),
        (
            "Lead",
            {"LastName": "Doe", "Company": "A", "NumberOfEmployees": "many"},
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            "NumberOfEmployees",
        ),
        (
            "Lead",
            {"LastName": "Doe", "Company": "A", "GeocodeAccuracy": "Nowhere"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "GeocodeAccuracy",
        ),
    ],
)
async def test_create_errors_have_salesforce_codes(
    org: Org, sobject: str, fields: dict[str, object], code: str, field: str
) -> None:
    response = await org.client.post(f"{API}/sobjects/{sobject}/", json=fields)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["errorCode"] == code
    assert field in error["fields"] or field in error["message"]


async def test_unknown_object_and_bad_session(org: Org) -> None:
    missing = await org.client.post(f"{API}/sobjects/Spaceship/", json={"Name": "x"})
    assert missing.status_code == 404
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    anonymous = await org.client.get(
        f"{API}/sobjects/Lead/describe", headers={"Authorization": "Bearer nope"}
    )
    assert anonymous.status_code == 401
    assert anonymous.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


async def test_upsert_by_external_id_field(org: Org) -> None:
    added = await org.client.post(
        "/sandbox/admin/custom-fields",
        json={
            "sobject": "Contact",
            "name": "Crm_Key__c",
            "kind": "string",
            "length": 40,
            "external_id": True,
            "unique": True,
        },
    )
    assert added.status_code == 201
    created = await org.client.patch(
        f"{API}/sobjects/Contact/Crm_Key__c/K-1", json={"LastName": "First"}
    )
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = await org.client.patch(
        f"{API}/sobjects/Contact/Crm_Key__c/k-1", json={"LastName": "Second"}
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    fetched = (await org.client.get(f"{API}/sobjects/Contact/Crm_Key__c/K-1")).json()
    assert fetched["LastName"] == "Second"
    duplicate = await org.client.post(
        f"{API}/sobjects/Contact/", json={"LastName": "X", "Crm_Key__c": "K-1"}
    )
    assert duplicate.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    describe = (await org.client.get(f"{API}/sobjects/Contact/describe")).json()
    custom = [f for f in describe["fields"] if f["name"] == "Crm_Key__c"]
    assert custom[0]["externalId"] is True
    assert custom[0]["custom"] is True


async def test_converted_lead_cannot_be_updated_and_merge_sets_master(org: Org) -> None:
    lead_id = await org.create("Lead", LastName="Convert", Company="Acme", Email="c@acme.com")
    converted = await org.soap(
        f"<urn:convertLead><urn:leadConverts><urn:leadId>{lead_id}</urn:leadId>"
        "<urn:convertedStatus>Closed - Converted</urn:convertedStatus>"
        "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        "</urn:leadConverts></urn:convertLead>"
    )
    assert converted.status_code == 200, converted.text
    assert "<success>true</success>" in converted.text
    lead = (
        await org.query(
            "SELECT IsConverted, ConvertedContactId, ConvertedAccountId, Status FROM Lead "
            f"WHERE Id = '{lead_id}'"
        )
    )["records"][0]
    assert lead["IsConverted"] is True
    assert lead["ConvertedContactId"].startswith("003")
    assert lead["ConvertedAccountId"].startswith("001")
    contact = (
        await org.query(
            f"SELECT Email, Account.Name FROM Contact WHERE Id = '{lead['ConvertedContactId']}'"
        )
    )["records"][0]
    assert contact["Email"] == "c@acme.com"
    assert contact["Account"]["Name"] == "Acme"
    blocked = await org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json={"City": "Oslo"})
    assert blocked.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    master = await org.create("Contact", LastName="Master")
    loser = await org.create("Contact", LastName="Loser")
    merged = await org.soap(
        f"<urn:merge><urn:request><urn:masterRecord><urn:Id>{master}</urn:Id></urn:masterRecord>"
        f"<urn:recordToMergeIds>{loser}</urn:recordToMergeIds></urn:request></urn:merge>"
    )
    assert "<success>true</success>" in merged.text
    row = (
        await org.query(
            f"SELECT IsDeleted, MasterRecordId FROM Contact WHERE Id = '{loser}'", all_rows=True
        )
    )["records"][0]
    assert row == {"attributes": row["attributes"], "IsDeleted": True, "MasterRecordId": master}


async def test_recycle_bin_undelete_and_replication_endpoints(org: Org) -> None:
    keep = await org.create("Account", Name="Keep")
    drop = await org.create("Account", Name="Drop")
    org.clock.advance(minutes=3)
    await org.client.patch(f"{API}/sobjects/Account/{keep}", json={"Industry": "Retail"})
    await org.client.delete(f"{API}/sobjects/Account/{drop}")
    org.clock.advance(minutes=2)
    window = {"start": "2026-11-24T12:01:00+00:00", "end": "2026-11-24T12:10:00+00:00"}
    updated = (await org.client.get(f"{API}/sobjects/Account/updated/", params=window)).json()
    assert updated["ids"] == [keep]
    deleted = (await org.client.get(f"{API}/sobjects/Account/deleted/", params=window)).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [drop]
    assert (await org.query("SELECT COUNT() FROM Account"))["totalSize"] == 1
    assert (await org.query("SELECT COUNT() FROM Account", all_rows=True))["totalSize"] == 2
    restored = await org.soap(f"<urn:undelete><urn:ids>{drop}</urn:ids></urn:undelete>")
    assert "<success>true</success>" in restored.text
    assert (await org.query("SELECT COUNT() FROM Account"))["totalSize"] == 2


async def test_change_events_are_published_per_commit(org: Org) -> None:
    lead_id = await org.create("Lead", LastName="Events", Company="Acme")
    await org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json={"Email": "e@acme.com"})
    await org.client.delete(f"{API}/sobjects/Lead/{lead_id}")
    kinds = [(c.change_type, c.record_ids) for _, changes in org.events for c in changes]
    assert kinds == [("CREATE", (lead_id,)), ("UPDATE", (lead_id,)), ("DELETE", (lead_id,))]
    update = org.events[1][1][0]
    assert "Email" in update.changed_fields
    assert update.values["Email"] == "e@acme.com"
    assert update.commit_user == org.config.user_id
