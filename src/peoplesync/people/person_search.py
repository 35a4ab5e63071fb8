"""The People list: newest first, keyset-paginated, optionally searched by name or email prefix.

Every query walks an index (the primary key, or the lower-cased name and email indexes of
migration 0004), so a page costs the same at the first person and the millionth: the cursor is
the last id shown, never an offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.model import Person
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


def _matching_ids(query: str, dialect: str, after: str | None, limit: int) -> sa.Select[Any] | None:
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
    for column, condition in branches:
        branch = sa.select(column.label("id")).where(condition)
        if after:
            branch = branch.where(column < after)
        parts.append(branch.order_by(column.desc()).limit(limit).subquery().select())
    found = sa.union(*parts).subquery()
    return sa.select(found.c.id).order_by(found.c.id.desc()).limit(limit)


async def list_persons(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    query: str = "",
    after: str | None = None,
    limit: int = 50,
) -> PersonPage:
    """A page of persons, newest first, after the cursor ``after``."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = _matching_ids(query, engine.dialect.name, after, limit + 1)
    if statement is None:
        statement = sa.select(persons.c.id).order_by(persons.c.id.desc()).limit(limit + 1)
        if after:
            statement = statement.where(persons.c.id < after)
    async with engine.connect() as conn:
        ids = [str(found_id) for found_id in (await conn.scalars(statement)).all()]
    more = len(ids) > limit
    ids = ids[:limit]
    found = await store.get_persons(ids)
    page = [found[i] for i in ids if i in found]
    return PersonPage(page, ids[-1] if more and ids else None)


__all__ = ["MAX_PAGE", "PersonPage", "list_persons"]
