"""Attribute filters on both databases: the SQL reading and the pure reading pick the same
persons; search, filters and keyset pagination combine; segments are stored and counted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import NotFoundError, ValidationError
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.model import PersonInput
from peoplesync.people.person_filter import Condition, check_conditions, matches
from peoplesync.people.person_search import count_matching, iter_matching, list_persons
from peoplesync.people.segment_store import SegmentStore
from peoplesync.people.sql_store import SqlPeopleStore

PEOPLE = [
    (
        {
            "first_name": "Ada",
            "country": "UK",
            "city": "London",
            "score": 90,
            "price": "12.50",
            "joined": "2020-01-31",
            "vip": True,
            "tags": ["math", "poet"],
            "note": "First programmer",
            "birth_date": "1815-12-10",
        },
        ["ada@example.com"],
        ["+442071234567"],
    ),
    (
        {
            "first_name": "Alan",
            "country": "uk",
            "city": "Manchester",
            "score": 75,
            "price": "9.99",
            "joined": "2021-06-01",
            "vip": False,
            "tags": ["math"],
        },
        ["alan@example.org"],
        [],
    ),
    (
        {
            "first_name": "Grace",
            "country": "US",
            "score": 75,
            "joined": "2019-12-31",
            "note": "Navy",
        },
        ["grace@navy.example", "g.hopper@example.com"],
        [],
    ),
    ({"first_name": "Edsger", "country": "NL", "city": "Amsterdam"}, [], ["+31201234567"]),
    ({"last_name": "Nobody"}, [], []),
]

CASES: list[tuple[list[Condition], set[str]]] = [
    ([Condition("country", "equals", "uk")], {"Ada", "Alan"}),
    ([Condition("country", "equals", "UK"), Condition("city", "equals", "london")], {"Ada"}),
    ([Condition("city", "contains", "an")], {"Alan"}),
    ([Condition("city", "empty")], {"Grace", None}),
    ([Condition("city", "not_empty")], {"Ada", "Alan", "Edsger"}),
    ([Condition("score", "gt", "75")], {"Ada"}),
    ([Condition("score", "gte", "75")], {"Ada", "Alan", "Grace"}),
    ([Condition("score", "equals", "75")], {"Alan", "Grace"}),
    ([Condition("score", "empty")], {"Edsger", None}),
    ([Condition("price", "lt", "10")], {"Alan"}),
    ([Condition("price", "gte", "12.5")], {"Ada"}),
    ([Condition("joined", "lt", "2020-02-01")], {"Ada", "Grace"}),
    ([Condition("joined", "gte", "2020-01-31")], {"Ada", "Alan"}),
    ([Condition("birth_date", "lt", "1900-01-01")], {"Ada"}),
    ([Condition("vip", "equals", "true")], {"Ada"}),
    ([Condition("vip", "equals", "false")], {"Alan"}),
    ([Condition("tags", "contains", "MATH")], {"Ada", "Alan"}),
    ([Condition("tags", "contains", "poet")], {"Ada"}),
    ([Condition("note", "contains", "PROG")], {"Ada"}),
    ([Condition("note", "equals", "navy")], {"Grace"}),
    ([Condition("email", "equals", "G.Hopper@example.com")], {"Grace"}),
    ([Condition("email", "contains", "example.o")], {"Alan"}),
    ([Condition("email", "empty")], {"Edsger", None}),
    ([Condition("phone", "contains", "+31")], {"Edsger"}),
    ([Condition("phone", "not_empty")], {"Ada", "Edsger"}),
    ([Condition("first_name", "contains", "50%")], set()),
]


async def _seed(store: SqlPeopleStore) -> None:
    for name, kind in [
        ("score", AttributeType.NUMBER),
        ("price", AttributeType.DECIMAL),
        ("joined", AttributeType.DATE),
        ("vip", AttributeType.BOOLEAN),
        ("tags", AttributeType.LIST),
        ("note", AttributeType.TEXT),
    ]:
        await store.define_attribute(AttributeDefinition(name, kind), origin="test")
    await store.upsert_persons(
        [PersonInput(values=v, emails=e, phones=p) for v, e, p in PEOPLE], origin="test"
    )


@pytest.mark.parametrize(("conditions", "expected"), CASES)
async def test_sql_and_pure_readings_agree(
    store: SqlPeopleStore, conditions: list[Condition], expected: set[str | None]
) -> None:
    await _seed(store)
    checked = check_conditions(conditions, await store.attributes())
    page = await list_persons(store, store.engine, conditions=checked, limit=200)
    assert {p.get("first_name") for p in page.persons} == expected
    everyone = await list_persons(store, store.engine, limit=200)
    pure = {p.get("first_name") for p in everyone.persons if matches(p, checked)}
    assert pure == expected
    assert await count_matching(store.engine, conditions=checked) == len(expected)


async def test_created_at_range(store: SqlPeopleStore, clock: ManualClock) -> None:
    await store.upsert_persons([PersonInput(values={"first_name": "Old"})], origin="test")
    clock.advance(timedelta(days=2))
    cut = clock.now() - timedelta(days=1)
    await store.upsert_persons([PersonInput(values={"first_name": "New"})], origin="test")
    checked = check_conditions([Condition("created_at", "gt", cut.isoformat())], {})
    page = await list_persons(store, store.engine, conditions=checked)
    assert [p.get("first_name") for p in page.persons] == ["New"]
    assert [
        p.get("first_name")
        for p in (await list_persons(store, store.engine)).persons
        if matches(p, checked)
    ] == ["New"]


async def test_search_filters_and_keyset_pages_combine(store: SqlPeopleStore) -> None:
    await store.upsert_persons(
        [
            PersonInput(
                values={"first_name": f"Ann{i:02d}", "country": "UK" if i % 2 else "FR"},
                emails=[f"ann{i}@example.com"],
            )
            for i in range(25)
        ]
        + [PersonInput(values={"first_name": "Bob", "country": "UK"})],
        origin="test",
    )
    checked = check_conditions([Condition("country", "equals", "uk")], {})
    seen: list[str] = []
    after = None
    while True:
        page = await list_persons(
            store, store.engine, query="ann", conditions=checked, after=after, limit=5
        )
        seen += [p.get("first_name") for p in page.persons]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    # every match once (ids of one batch share a millisecond, so their order is random)
    assert sorted(seen) == [f"Ann{i:02d}" for i in range(1, 25, 2)]
    by_email = await list_persons(store, store.engine, query="ann1", conditions=checked)
    assert sorted(p.get("first_name") for p in by_email.persons) == [
        "Ann01",
        "Ann11",
        "Ann13",
        "Ann15",
        "Ann17",
        "Ann19",
    ]
    assert await count_matching(store.engine, query="ann", conditions=checked) == 12
    batches = [
        [p.get("first_name") for p in batch]
        async for batch in iter_matching(store, store.engine, conditions=checked, batch=4)
    ]
    assert [len(b) for b in batches] == [4, 4, 4, 1]
    assert sorted(n for b in batches for n in b) == sorted([*seen, "Bob"])


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        (Condition("nope", "equals", "x"), "filters[0].field"),
        (Condition("country", "gt", "x"), "filters[0].op"),
        (Condition("country", "like", "x"), "filters[0].op"),
        (Condition("country", "equals", " "), "filters[0].value"),
        (Condition("score", "gt", "many"), "filters[0].value"),
        (Condition("joined", "lt", "31/01/2020"), "filters[0].value"),
        (Condition("vip", "equals", "perhaps"), "filters[0].value"),
    ],
)
async def test_bad_conditions_name_the_part(
    store: SqlPeopleStore, condition: Condition, field: str
) -> None:
    await _seed(store)
    with pytest.raises(ValidationError) as caught:
        check_conditions([condition], await store.attributes())
    assert caught.value.field == field


async def test_segments_are_saved_renamed_and_deleted(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    await _seed(store)
    segments = SegmentStore(store.engine, clock)
    definitions = await store.attributes()
    saved = await segments.save(
        name=" UK  fans ",
        query="a",
        conditions=[Condition("country", "equals", "uk")],
        definitions=definitions,
        author="admin@example.com",
    )
    assert saved.name == "UK fans"
    checked = saved.checked(definitions)
    assert await count_matching(store.engine, query=saved.query, conditions=checked) == 2
    with pytest.raises(ValidationError) as clash:
        await segments.save(
            name="UK fans", query="", conditions=[], definitions=definitions, author="x"
        )
    assert clash.value.field == "name"
    with pytest.raises(ValidationError) as bad:
        await segments.save(
            name="Bad",
            query="",
            conditions=[Condition("score", "contains", "1")],
            definitions=definitions,
            author="x",
        )
    assert bad.value.field == "filters[0].op"
    renamed = await segments.save(
        name="Scores",
        query="",
        conditions=[Condition("score", "gte", "75")],
        definitions=definitions,
        author="x",
        segment_id=saved.id,
    )
    assert [s.name for s in await segments.list()] == ["Scores"]
    assert renamed.created_by == "admin@example.com"
    assert (await segments.by_name("Scores")).id == saved.id
    await segments.delete(saved.id)
    with pytest.raises(NotFoundError):
        await segments.get(saved.id)
    with pytest.raises(NotFoundError):
        await segments.delete(saved.id)
