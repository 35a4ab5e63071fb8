"""Person rows of the SQL People store: reading a person's state with its emails and phones,
the row a state is written as, and the snapshot the change log keeps of a deleted person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people import tables as t
from peoplesync.people.attribute import AttributeDefinition, decode_value
from peoplesync.people.bulk_writer import BulkWriter
from peoplesync.people.contact_point import EmailAddress
from peoplesync.people.model import Person
from peoplesync.people.planner import STANDARD_NAMES, PersonState


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Successive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


PERSON_COLUMNS = (
    "id",
    "created_at",
    *STANDARD_NAMES,
    "version",
    "company_id",
    "attributes",
    "updated_at",
)
UPDATED_SLICE = slice(2, None)
STANDARD_END = 2 + len(STANDARD_NAMES)
UPDATED_COLUMNS = PERSON_COLUMNS[UPDATED_SLICE]


async def email_owners(conn: AsyncConnection, keys: Iterable[str]) -> dict[str, str]:
    """Person ids by email key, for the keys that are taken."""
    owners: dict[str, str] = {}
    reader = BulkWriter(conn)
    for part in chunked(keys, 10_000):
        rows = await reader.fetch_in(t.person_emails, ("email_key", "person_id"), "email_key", part)
        owners.update(rows)
    return owners


def person_row(state: PersonState) -> tuple[Any, ...]:
    standard = state.standard
    return (
        state.id,
        state.created_at,
        *[standard.get(name) for name in STANDARD_NAMES],
        state.version,
        state.company_id,
        state.attributes,
        state.updated_at,
    )


def snapshot(state: PersonState) -> dict[str, Any]:
    values: dict[str, Any] = {n: [v, None] for n, v in state.standard.items() if v is not None}
    values.update({n: [v, None] for n, v in state.attributes.items()})
    values["emails"] = [[e.address for e in state.emails], []]
    values["phones"] = [list(state.phones), []]
    return values


def to_person(state: PersonState, definitions: dict[str, AttributeDefinition]) -> Person:
    standard = dict(state.standard)
    if standard.get("birth_date"):
        standard["birth_date"] = date.fromisoformat(standard["birth_date"])
    attributes = {
        name: decode_value(definitions[name].type, value) if name in definitions else value
        for name, value in state.attributes.items()
    }
    return Person(
        id=state.id,
        version=state.version,
        emails=tuple(e.address for e in state.emails),
        phones=state.phones,
        standard=standard,
        attributes=attributes,
        company_id=state.company_id,
        created_at=state.created_at,
        updated_at=state.updated_at,
    )


async def load_states(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, PersonState]:
    """The stored persons of ``ids`` with their emails and phones (missing ids left out)."""
    states: dict[str, PersonState] = {}
    reader = BulkWriter(conn)
    for part in chunked(ids, 10_000):
        for row in await reader.fetch_in(t.persons, PERSON_COLUMNS, "id", part):
            states[row[0]] = PersonState(
                id=row[0],
                created_at=row[1],
                standard=dict(zip(STANDARD_NAMES, row[2:STANDARD_END], strict=True)),
                version=row[STANDARD_END],
                company_id=row[STANDARD_END + 1],
                attributes=dict(row[STANDARD_END + 2]),
                updated_at=row[STANDARD_END + 3],
                emails=(),
                phones=(),
            )
        emails = await reader.fetch_in(
            t.person_emails,
            ("person_id", "address", "email_key"),
            "person_id",
            part,
            order_by=("person_id", "position"),
        )
        for person_id, address, key in emails:
            state = states[person_id]
            state.emails = (*state.emails, EmailAddress(address, key))
        phones = await reader.fetch_in(
            t.person_phones,
            ("person_id", "number"),
            "person_id",
            part,
            order_by=("person_id", "position"),
        )
        for person_id, number in phones:
            states[person_id].phones = (*states[person_id].phones, number)
    return states


async def set_state(conn: AsyncConnection, key: str, value: dict[str, Any], now: Any) -> None:
    """Store a sync-state value (a cursor...) in the transaction of ``conn``."""
    await conn.execute(t.sync_state.delete().where(t.sync_state.c.key == key))
    await conn.execute(t.sync_state.insert(), {"key": key, "value": value, "updated_at": now})
