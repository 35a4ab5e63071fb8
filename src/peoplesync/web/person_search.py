"""The People list: newest first, keyset-paginated, optionally searched by name or email prefix.

Every query walks an index (the primary key, or the lower-cased name and email indexes of
migration 0004), so a page costs the same at the first person and the millionth: the cursor is
the last id shown, never an offset.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def search_condition(query: str, dialect: str) -> sa.ColumnElement[bool] | None:
    """Persons whose first name, last name or any email starts with ``query``; "ada lov"
    also finds first name "Ada" with last name "Lovelace"."""
    text = " ".join(query.lower().split())
    if not text:
        return None
    first = sa.func.lower(persons.c.first_name)
    last = sa.func.lower(persons.c.last_name)
    by_email = persons.c.id.in_(
        sa.select(person_emails.c.person_id).where(
            _prefix(person_emails.c.email_key, text, dialect)
        )
    )
    options = [_prefix(first, text, dialect), _prefix(last, text, dialect), by_email]
    if " " in text:
        given, family = text.split(" ", 1)
        options.append(sa.and_(first == given, _prefix(last, family, dialect)))
    return sa.or_(*options)


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
    statement = sa.select(persons.c.id).order_by(persons.c.id.desc()).limit(limit + 1)
    condition = search_condition(query, engine.dialect.name)
    if condition is not None:
        statement = statement.where(condition)
    if after:
        statement = statement.where(persons.c.id < after)
    async with engine.connect() as conn:
        ids = list((await conn.scalars(statement)).all())
    more = len(ids) > limit
    ids = ids[:limit]
    found = await store.get_persons(ids)
    page = [found[i] for i in ids if i in found]
    return PersonPage(page, ids[-1] if more and ids else None)


__all__ = ["MAX_PAGE", "PersonPage", "list_persons", "search_condition"]
