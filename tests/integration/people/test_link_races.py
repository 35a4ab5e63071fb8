"""Links saved by two transactions at once on PostgreSQL (SQLite has one writer at a time): a
push committing the link of a Lead it created while the inbound sync, which read the Lead
first, commits its own link to it (issue 13's queue workers). The later save replaces the
link, as saving a link does, instead of failing the push's whole commit on the key."""

from __future__ import annotations

from typing import Any

import pytest

from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.model import ExternalLink, PersonInput
from peoplesync.people.sql_store import SqlPeopleStore


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_link_committed_meanwhile_by_another_transaction_is_replaced(
    store: SqlPeopleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await store.upsert_persons([PersonInput(values={"last_name": "Lovelace"})], origin="ui")
    (person,) = made.ids
    assert person is not None

    def link(city: str) -> ExternalLink:
        state = {"City": city}
        return ExternalLink("person", person, "salesforce:a", "Lead", "00Q1", state, None)

    inbound = await store.engine.connect()
    try:
        await inbound.begin()
        await store._save_links(inbound, [link("Paris")])  # written, not committed yet
        delete = BulkWriter.delete_in

        async def delete_then_other_commits(self: BulkWriter, *args: Any, **options: Any) -> Any:
            done = await delete(self, *args, **options)  # sees no link to 00Q1 yet
            await inbound.commit()  # the inbound sync's link lands now
            return done

        monkeypatch.setattr(BulkWriter, "delete_in", delete_then_other_commits)
        await store.save_links([link("Rome")])  # the push's commit
    finally:
        await inbound.close()
    saved = await store.find_links("salesforce:a", "Lead", ["00Q1"])
    assert saved["00Q1"].state == {"City": "Rome"}
    assert saved["00Q1"].entity_id == person
