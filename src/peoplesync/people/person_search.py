"""The People list: newest first, keyset-paginated, optionally searched by name or email prefix
and narrowed by attribute conditions (``person_filter``).

Every query walks an index (the primary key, or the lower-cased name and email indexes of
migration 0004, or the (lower(column), id) indexes of migration 0005 for equality on country,
city, company and status), so a page costs the same at the first person and the millionth: the
cursor is the last id shown, never an offset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.model import Person
from peoplesync.people.person_filter import Checked, where_clause
from peoplesync.people.store import PeopleStore
from peoplesync.people.tables import person_emails, persons

MAX_PAGE = 200


@dataclass(frozen=True)
class PersonPage:
    """One page of persons and the cursor of the next page (None on the last)."""

    persons: list[Person]
    next_cursor: str | None


def _prefix(column: sa.ColumnElement[str], prefix: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix`` (both lower-case), in an index-friendly form."""
    if dialect == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(f"{escaped}%", escape="\\")
    # SQLite compares with binary collation: a half-open range is exactly "starts with".
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sa.and_(column >= prefix, column < upper)


def _matching_ids(
    query: str,
    dialect: str,
    after: str | None,
    limit: int | None,
    condition: sa.ColumnElement[bool] | None = None,
) -> sa.Select[Any] | None:
    """Ids of persons whose first name, last name or any email starts with ``query`` ("ada
    lov" also finds first name "Ada" with last name "Lovelace"), newest first.

    One branch per index, each already ordered and cut to ``limit``, so the database picks
    per branch between walking the primary key (common prefixes) and the prefix index (rare
    ones); an OR of the conditions would make PostgreSQL scan every person for a rare prefix.
    """
    text = " ".join(query.lower().split())
    if not text:
        return None
    first = sa.func.lower(persons.c.first_name)
    last = sa.func.lower(persons.c.last_name)
    branches: list[tuple[sa.ColumnElement[str], sa.ColumnElement[bool]]] = [
        (persons.c.id, _prefix(first, text, dialect)),
        (persons.c.id, _prefix(last, text, dialect)),
        (person_emails.c.person_id, _prefix(person_emails.c.email_key, text, dialect)),
    ]
    if " " in text:
        given, family = text.split(" ", 1)
        branches.append((persons.c.id, sa.and_(first == given, _prefix(last, family, dialect))))
    parts = []
    for column, prefix in branches:
        branch = sa.select(column.label("id")).where(prefix)
        if condition is not None:
            if column is person_emails.c.person_id:
                branch = branch.join(persons, persons.c.id == person_emails.c.person_id)
            branch = branch.where(condition)
        if after:
            branch = branch.where(column < after)
        if limit is not None:
            branch = branch.order_by(column.desc()).limit(limit)
        parts.append(branch.subquery().select())
    found = sa.union(*parts).subquery()
    statement = sa.select(found.c.id).order_by(found.c.id.desc())
    return statement.limit(limit) if limit is not None else statement


def _ids_statement(
    query: str,
    conditions: Sequence[Checked],
    dialect: str,
    after: str | None,
    limit: int | None,
) -> sa.Select[Any]:
    condition = where_clause(conditions, dialect)
    statement = _matching_ids(query, dialect, after, limit, condition)
    if statement is None:
        statement = sa.select(persons.c.id).order_by(persons.c.id.desc())
        if condition is not None:
            statement = statement.where(condition)
        if after:
            statement = statement.where(persons.c.id < after)
        if limit is not None:
            statement = statement.limit(limit)
    return statement


async def list_persons(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    query: str = "",
    conditions: Sequence[Checked] = (),
    after: str | None = None,
    limit: int = 50,
) -> PersonPage:
    """A page of persons, newest first, after the cursor ``after``, that start with ``query``
    and satisfy every condition."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = _ids_statement(query, conditions, engine.dialect.name, after, limit + 1)
    async with engine.connect() as conn:
        ids = [str(found_id) for found_id in (await conn.scalars(statement)).all()]
    more = len(ids) > limit
    ids = ids[:limit]
    found = await store.get_persons(ids)
    page = [found[i] for i in ids if i in found]
    return PersonPage(page, ids[-1] if more and ids else None)


async def count_matching(
    engine: AsyncEngine, *, query: str = "", conditions: Sequence[Checked] = ()
) -> int:
    """How many persons start with ``query`` and satisfy every condition."""
    found = _ids_statement(query, conditions, engine.dialect.name, None, None).subquery()
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(found)) or 0)


async def iter_matching(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    query: str = "",
    conditions: Sequence[Checked] = (),
    batch: int = 1000,
) -> AsyncIterator[list[Person]]:
    """Every matching person, newest first, in pages of ``batch`` (keyset; for exports)."""
    after: str | None = None
    while True:
        statement = _ids_statement(query, conditions, engine.dialect.name, after, batch)
        async with engine.connect() as conn:
            ids = [str(found_id) for found_id in (await conn.scalars(statement)).all()]
        if not ids:
            return
        found = await store.get_persons(ids)
        yield [found[i] for i in ids if i in found]
        if len(ids) < batch:
            return
        after = ids[-1]


__all__ = ["MAX_PAGE", "PersonPage", "count_matching", "iter_matching", "list_persons"]
