"""Company batches of several integrations at once (the queue workers run them side by side):
two transactions touching the same companies in a different order wait for each other
instead of deadlocking, and the later one builds on the earlier one's values; a person
written with a company (its foreign key check holds the company's key) does not hold them up."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people import tables as t
from peoplesync.people.model import CompanyInput
from peoplesync.people.sql_store import SqlPeopleStore

ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


async def lock_waits(engine: AsyncEngine, count: int) -> None:
    """Return once ``count`` company statements wait for a row lock."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND query ILIKE '%companies%'"
    )
    for _ in range(600):
        async with engine.connect() as conn:
            if (await conn.execute(query)).scalar_one() >= count:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} statement(s) never waited for a lock")


@pytest.mark.postgres
@ON_POSTGRES
async def test_postgres_crossing_company_batches_wait_for_each_other_not_deadlock(
    store: SqlPeopleStore, engine: AsyncEngine
) -> None:
    made = await store.upsert_companies(
        [CompanyInput({"name": f"C{i}", "website_domain": f"c{i}.example"}) for i in range(3)],
        origin="test",
    )
    c1, c2, c3 = sorted(i for i in made.ids if i)
    domain = {c: co.website_domain for c, co in (await store.get_companies([c1, c2, c3])).items()}

    def batch(industry: str, *companies: str) -> list[CompanyInput]:
        # Matched by domain, as the inbound Account step of another org matches them.
        return [
            CompanyInput({"website_domain": domain[c], "industry": industry}) for c in companies
        ]

    async with engine.connect() as holder:  # holds c3 until both batches are under way
        await holder.execute(
            sa.select(t.companies.c.id).where(t.companies.c.id == c3).with_for_update()
        )
        a = asyncio.create_task(store.upsert_companies(batch("A", c1, c3, c2), origin="a"))
        await lock_waits(engine, 1)
        b = asyncio.create_task(store.upsert_companies(batch("B", c2, c1), origin="b"))
        await lock_waits(engine, 2)
        await holder.commit()
    first, second = await asyncio.gather(a, b)  # no DeadlockDetected

    assert sorted(first.updated) == [c1, c2, c3]
    assert sorted(second.updated) == [c1, c2]
    now = await store.get_companies([c1, c2, c3])
    assert {c: (co.industry, co.version) for c, co in now.items()} == {
        c1: ("B", 3),  # created, then A, then B: B read A's version, not the one before
        c2: ("B", 3),
        c3: ("A", 2),
    }


@pytest.mark.postgres
@ON_POSTGRES
async def test_postgres_a_company_batch_does_not_wait_for_persons_being_written_with_it(
    store: SqlPeopleStore, engine: AsyncEngine
) -> None:
    made = await store.upsert_companies(
        [CompanyInput({"name": "Held", "website_domain": "held.example"})], origin="test"
    )
    company = made.ids[0]
    assert company is not None
    async with engine.connect() as writer:  # a Contact batch of another integration, open
        await writer.execute(
            t.persons.insert().values(
                id="p-held",
                version=1,
                last_name="Held",
                company_id=company,  # its foreign key check locks the company's key
                attributes={},
                created_at=store.clock.now(),
                updated_at=store.clock.now(),
            )
        )
        # The Account step's batch updates the company meanwhile (the guard only ends a hang).
        result = await asyncio.wait_for(
            store.upsert_companies(
                [CompanyInput({"website_domain": "held.example", "industry": "Locks"})],
                origin="b",
            ),
            timeout=120,
        )
        await writer.commit()
    assert result.updated == [company]
