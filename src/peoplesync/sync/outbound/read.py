"""What a push page reads from People: its persons and their links, and the next page read
ahead while this one waits for Salesforce.

A page's writes spend most of their time waiting for Salesforce (a Bulk API job runs for
seconds per 10,000 records); reading the next page's changes, persons and links meanwhile
takes that work off the path. Those reads are from before this page's commit, so the persons
this page pushed (whose links it may have just written) are read again when their turn comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peoplesync.people.model import Change, ExternalLink, Person
from peoplesync.people.store import PeopleStore
from peoplesync.sync.outbound.plan import persons_to_push
from peoplesync.sync.outbound.step import STORE_CHUNK


@dataclass
class PersonReads:
    """Persons (with their links) already read for a page; a person missing here is read
    when needed."""

    persons: dict[str, Person] = field(default_factory=dict)
    links: dict[str, list[ExternalLink]] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)  # asked for (absent persons are gone)

    def forget(self, ids: Iterable[str]) -> None:
        """Drop what may have changed since it was read."""
        for person_id in ids:
            self.read.discard(person_id)
            self.persons.pop(person_id, None)
            self.links.pop(person_id, None)


@dataclass
class PageAhead:
    """The next page of changes and its persons, read before the current page ended."""

    page: list[Change]
    reads: PersonReads


async def read_persons(
    store: PeopleStore, ids: Sequence[str], known: PersonReads | None = None
) -> tuple[dict[str, Person], dict[str, list[ExternalLink]]]:
    """The persons of ``ids`` (in that order, gone ones left out) and their links, taking
    what ``known`` holds and reading the rest."""
    known = known or PersonReads()
    missing = [person_id for person_id in ids if person_id not in known.read]
    persons = dict(known.persons)
    links = dict(known.links)
    if missing:
        persons.update(await store.get_persons(missing))
        for start in range(0, len(missing), STORE_CHUNK):
            links.update(await store.links_of("person", missing[start : start + STORE_CHUNK]))
    return (
        {person_id: persons[person_id] for person_id in ids if person_id in persons},
        {person_id: links[person_id] for person_id in ids if person_id in links},
    )


async def read_ahead(
    store: PeopleStore, after: int, limit: int, own_origin: str, start: asyncio.Event
) -> PageAhead:
    """The page of changes after ``after`` and the persons it will push, read once ``start``
    is set (when the current page has read its own: side by side they only contend)."""
    await start.wait()
    page = await store.changes_since(after, limit=limit)
    ids, _ = persons_to_push(page, own_origin=own_origin)
    persons, links = await read_persons(store, ids)
    return PageAhead(page, PersonReads(persons, links, set(ids)))


__all__ = ["PageAhead", "PersonReads", "read_ahead", "read_persons"]
