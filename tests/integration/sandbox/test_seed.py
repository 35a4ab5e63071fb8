"""Seed data the org's own API accepts: field checks, updates and lead conversion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from peoplesync.people.contact_point import normalise_email
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.seed import seed_rows
from peoplesync.sandbox.salesforce.server import seed_if_empty
from peoplesync.sandbox.salesforce.storage import Storage
from peoplesync.sandbox.salesforce.values import FieldError, to_storage

from .conftest import API, BASE, Org, open_org

# What the record service keeps for itself; the seed writes them directly.
SYSTEM = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"}


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2026])
def test_every_seeded_value_passes_the_orgs_field_checks(tmp_path: Path, seed: int) -> None:
    schema = Schema.standard()
    storage = Storage(tmp_path / "unused.sqlite3", schema)
    refused: list[str] = []
    emails = 0
    rows = seed_rows(
        storage,
        "005000000000001AAA",
        datetime(2026, 11, 24, tzinfo=UTC),
        accounts=300,
        contacts=2000,
        leads=1000,
        seed=seed,
    )
    for sobject, batch in rows:
        for row in batch:
            for name, value in row.items():
                meta = schema.field(sobject, name)
                assert meta is not None, f"{sobject}.{name} is no field of the org"
                if name in SYSTEM:
                    continue
                if meta.type == "boolean":
                    value = bool(value)  # stored as 0 or 1, sent as JSON true or false
                try:
                    to_storage(meta, value)
                except FieldError as error:
                    refused.append(f"{sobject} {row['Id']}: {error.status_code} {error.message}")
            if row.get("Email"):
                emails += 1
                normalise_email(row["Email"], record=row["Id"], field="Email")  # People too
    assert refused == []
    assert emails > 2500  # the check saw the seeded emails


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Org]:
    """An org seeded as `--seed-leads 101 --seed-contacts 60 --seed-accounts 20` does."""
    config = SandboxConfig(data_dir=tmp_path / "org", instance_url=BASE)
    await seed_if_empty(config, accounts=20, contacts=60, leads=101)
    async for handle in open_org(tmp_path):
        yield handle


async def all_records(org: Org, soql: str) -> list[dict[str, Any]]:
    body = await org.query(soql)
    records: list[dict[str, Any]] = body["records"]
    while not body["done"]:
        body = (await org.client.get(body["nextRecordsUrl"])).json()
        records += body["records"]
    return records


async def test_every_seeded_record_can_be_saved_again_and_converted(seeded: Org) -> None:
    leads = await all_records(
        seeded,
        "SELECT Id, FirstName, LastName, Company, Email, Phone, Title, City, Country, "
        "LeadSource, Status, Industry, IsConverted FROM Lead",
    )
    contacts = await all_records(
        seeded, "SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Title FROM Contact"
    )
    assert len(leads) == 101
    assert sum(1 for r in leads + contacts if r["Email"]) > 100
    failures: list[Any] = []
    open_leads = [r for r in leads if not r["IsConverted"]]
    for sobject, records in (("Lead", open_leads), ("Contact", contacts)):
        for start in range(0, len(records), 200):
            # Save every record with its own values, as a client editing it would.
            chunk = [
                {k: v for k, v in r.items() if k != "IsConverted"}
                for r in records[start : start + 200]
            ]
            results = await seeded.client.patch(
                f"{API}/composite/sobjects", json={"allOrNone": False, "records": chunk}
            )
            assert results.status_code == 200, results.text
            failures += [(sobject, r) for r in results.json() if not r["success"]]
    assert failures == []
    for lead in open_leads:
        converted = await seeded.soap(
            f"<urn:convertLead><urn:leadConverts><urn:leadId>{lead['Id']}</urn:leadId>"
            "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
            "</urn:leadConverts></urn:convertLead>"
        )
        if "<success>true</success>" not in converted.text:
            failures.append((lead["Id"], lead["Email"], converted.text))
    assert failures == []
    assert len(open_leads) > 90
