"""Companies, links, timeline and deletes in the SQL People store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import BatchValidationError, NotFoundError
from peoplesync.people.model import CompanyInput, ExternalLink, PersonInput, TimelineEvent
from peoplesync.people.sql_store import SqlPeopleStore


async def test_companies_match_by_id_then_domain(store: SqlPeopleStore) -> None:
    made = await store.upsert_companies(
        [CompanyInput(values={"name": "Acme", "website_domain": "https://www.Acme.com/about"})],
        origin="t",
    )
    (acme,) = made.created
    assert await store.find_companies_by_domains(["http://acme.com"]) == {"acme.com": acme}
    again = await store.upsert_companies(
        [CompanyInput(values={"website_domain": "ACME.com", "employees": 50, "revenue": 1.5e6})],
        origin="t",
    )
    assert again.updated == [acme]
    company = (await store.get_companies([acme]))[acme]
    assert (company.name, company.employees, company.revenue) == ("Acme", 50, "1500000.0")
    assert company.version == 2
    with pytest.raises(BatchValidationError) as caught:
        await store.upsert_companies(
            [CompanyInput(values={"employees": "many"}, key="A1")], origin="t"
        )
    assert caught.value.errors[0].field == "employees"
    changes = [c for c in await store.changes_since(0) if c.entity_type == "company"]
    assert [c.operation for c in changes] == ["create", "update"]


async def test_links_save_find_and_remove(store: SqlPeopleStore, clock: ManualClock) -> None:
    person = (await store.upsert_persons([PersonInput(emails=["l@example.com"])], origin="t")).ids[
        0
    ]
    assert person
    lead = ExternalLink(
        "person",
        person,
        "salesforce",
        "Lead",
        "00Q000000000001AAA",
        {"Email": "l@example.com"},
        clock.now(),
    )
    contact = ExternalLink(
        "person", person, "salesforce", "Contact", "003000000000001AAA", {}, clock.now()
    )
    await store.save_links([lead, contact])
    assert (await store.find_links("salesforce", "Lead", [lead.external_id]))[
        lead.external_id
    ] == lead
    assert {x.object for x in (await store.links_of("person", [person]))[person]} == {
        "Lead",
        "Contact",
    }
    moved = ExternalLink(
        "person", person, "salesforce", "Lead", lead.external_id, {"Email": "new@example.com"}
    )
    await store.save_links([moved])
    assert (await store.find_links("salesforce", "Lead", [lead.external_id]))[
        lead.external_id
    ].state == {"Email": "new@example.com"}
    assert await store.remove_links("salesforce", "Contact", [contact.external_id]) == 1
    assert [x.object for x in (await store.links_of("person", [person]))[person]] == ["Lead"]


async def test_timeline_newest_first(store: SqlPeopleStore) -> None:
    person = (await store.upsert_persons([PersonInput(emails=["t@example.com"])], origin="t")).ids[
        0
    ]
    assert person
    start = datetime(2026, 5, 1, tzinfo=UTC)
    await store.add_events(
        [
            TimelineEvent(person, "message_sent", start, "messaging", {"channel": "sms"}),
            TimelineEvent(person, "message_delivered", start + timedelta(seconds=3), "messaging"),
        ]
    )
    events = await store.timeline(person)
    assert [e.kind for e in events] == ["message_delivered", "message_sent"]
    assert events[1].data == {"channel": "sms"}
    with pytest.raises(NotFoundError):
        await store.add_events([TimelineEvent("f" * 32, "page_view", start)])


async def test_delete_keeps_a_snapshot_with_links(store: SqlPeopleStore) -> None:
    ids = (
        await store.upsert_persons(
            [
                PersonInput(values={"last_name": "Gone"}, emails=["gone@example.com"]),
                PersonInput(values={"last_name": "Stays"}, emails=["stays@example.com"]),
            ],
            origin="t",
        )
    ).ids
    gone, stays = ids
    assert gone and stays
    await store.save_links(
        [ExternalLink("person", gone, "salesforce", "Lead", "00Q00000000000AAAA")]
    )
    await store.add_events([TimelineEvent(gone, "page_view", datetime(2026, 1, 1, tzinfo=UTC))])
    assert await store.delete_persons([gone, "missing"], origin="ui") == [gone]
    assert set(await store.get_persons([gone, stays])) == {stays}
    assert await store.find_by_emails(["gone@example.com"]) == {}
    assert await store.find_links("salesforce", "Lead", ["00Q00000000000AAAA"]) == {}
    last = (await store.changes_since(0))[-1]
    assert (last.operation, last.entity_id, last.origin) == ("delete", gone, "ui")
    assert last.changes["last_name"] == ["Gone", None]
    assert last.changes["links"] == [["salesforce", "Lead", "00Q00000000000AAAA"]]
    # The address is free again.
    again = await store.upsert_persons([PersonInput(emails=["gone@example.com"])], origin="t")
    assert len(again.created) == 1
