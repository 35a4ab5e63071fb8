"""Step mappings checked against the sandbox org's real describes before they are saved."""

from __future__ import annotations

from pathlib import Path

from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, Direction, FieldMapping, validate_lines
from tests.integration.org_client import asgi_http, client_for
from tests.integration.sandbox.conftest import open_org


async def test_default_and_broken_mappings(tmp_path: Path) -> None:
    async for org in open_org(tmp_path):
        async with asgi_http(org) as http:
            client = client_for(org, http)
            lead = await client.describe("Lead")
            contact = await client.describe("Contact")
    assert validate_lines("Lead", DEFAULT_MAPPINGS["Lead"], lead, {}) == []
    assert validate_lines("Contact", DEFAULT_MAPPINGS["Contact"], contact, {}) == []
    outbound = [
        FieldMapping("LastName", "last_name", Direction.OUTBOUND),
        FieldMapping("Nope__c", "city", Direction.OUTBOUND),
        FieldMapping("Name", "first_name", Direction.OUTBOUND),
        FieldMapping("City", "shoe_size", Direction.OUTBOUND),
    ]
    definitions = {"tier": AttributeDefinition("tier", AttributeType.NUMBER, mandatory=True)}
    problems = {
        (p.field, p.detail.split(" ")[0])
        for p in validate_lines("Lead", outbound, lead, definitions)
    }
    assert ("Nope__c", "Lead") in problems  # no such field
    assert ("Name", "Lead.Name") in problems  # read-only
    assert ("shoe_size", "People") in problems  # missing attribute
    assert ("Company", "Lead.Company") in problems  # required on create, unmapped
    # In an inbound step a two-way line flows inbound only: the outbound step creates records.
    two_way = [FieldMapping("Title", "title", Direction.BOTH)]
    assert validate_lines("Lead", two_way, lead, {}, creates_records=False) == []
    assert {p.field for p in validate_lines("Lead", two_way, lead, {})} >= {"Company"}
    inbound_problems = validate_lines("Lead", DEFAULT_MAPPINGS["Lead"], lead, definitions)
    assert [p.field for p in inbound_problems] == ["tier"]  # People's mandatory attribute unmapped
    assert "map a Lead field to tier" in str(inbound_problems[0])
