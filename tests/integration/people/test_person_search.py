"""The People search on both databases: common prefixes (walking the newest ids) and rare
ones (reading the prefix indexes) find the same persons in the same order, page by page."""

from __future__ import annotations

import random

import pytest

from peoplesync.people import person_search
from peoplesync.people.model import Person, PersonInput
from peoplesync.people.person_search import list_persons
from peoplesync.people.sql_store import SqlPeopleStore

FIRST = ["Ada", "Adam", "Alan", "Grace", "Linus"]
LAST = ["Lovelace", "Lovell", "Turing", "Hopper", "Torvalds"]
QUERIES = [
    "a",
    "ad",
    "ada",
    "ada lov",
    "ADA  LOVELL",
    "lov",
    "t",
    "tor",
    "x",
    "linus t",
    "p1",
    "p12@",
    "grace hopper",
    "\U0010ffff",
    "a\U0010ffff",
    "%",
    "_",
    "a_",
]


def expected(persons: list[Person], query: str) -> list[str]:
    """The search's meaning, read in Python: newest first."""
    text = " ".join(query.lower().split())
    found = []
    for person in persons:
        first = str(person.standard.get("first_name") or "").lower()
        last = str(person.standard.get("last_name") or "").lower()
        hit = first.startswith(text) or last.startswith(text)
        hit = hit or any(email.lower().startswith(text) for email in person.emails)
        if " " in text:
            given, family = text.split(" ", 1)
            hit = hit or (first == given and last.startswith(family))
        if hit:
            found.append(person.id)
    return sorted(found, reverse=True)


async def pages(store: SqlPeopleStore, query: str, limit: int) -> list[str]:
    shown: list[str] = []
    after = None
    while True:
        page = await list_persons(store, store.engine, query=query, after=after, limit=limit)
        shown += [person.id for person in page.persons]
        if page.next_cursor is None:
            return shown
        after = page.next_cursor


@pytest.mark.parametrize("common", [1000, 3])
async def test_common_and_rare_prefixes_find_the_same_persons_newest_first(
    store: SqlPeopleStore, monkeypatch: pytest.MonkeyPatch, common: int
) -> None:
    monkeypatch.setattr(person_search, "COMMON", common)
    rng = random.Random(5)
    inputs = [
        PersonInput(
            values={"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST)},
            emails=[f"p{i}@example.org"],
        )
        for i in range(60)
    ]
    result = await store.upsert_persons(inputs, origin="test")
    ids = [i for i in result.ids if i is not None]
    persons = list((await store.get_persons(ids)).values())
    for query in QUERIES:
        want = expected(persons, query)
        assert await pages(store, query, 7) == want, query
        assert await pages(store, query, 200) == want, query


async def test_names_with_letters_beyond_a_to_z_are_found_as_written_or_in_lower_case(
    store: SqlPeopleStore,
) -> None:
    # SQLite's lower() leaves É and Š as they are: the search must still find these names
    names = [("Éric", "Jourdan"), ("Ana", "Šimić"), ("Örjan", "Ödegaard"), ("Eric", "Smith")]
    result = await store.upsert_persons(
        [PersonInput(values={"first_name": f, "last_name": la}) for f, la in names],
        origin="test",
    )
    eric, ana, orjan, plain = [i for i in result.ids if i is not None]
    found = {
        query: set(await pages(store, query, 200))
        for query in ("Éric", "éric", "Šimić", "šim", "ana šimić", "Ana Šim", "örjan ödeg", "eric")
    }
    assert found == {
        "Éric": {eric},
        "éric": {eric},
        "Šimić": {ana},
        "šim": {ana},
        "ana šimić": {ana},
        "Ana Šim": {ana},
        "örjan ödeg": {orjan},
        "eric": {plain},  # "e" and "é" are different letters
    }
