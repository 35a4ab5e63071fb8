"""The People list: newest first, keyset-paginated, optionally searched by name or email prefix
and narrowed by attribute conditions (``person_filter``).

Every query walks an index (the primary key, or the lower-cased name and email indexes of
migration 0004, or the (lower(column), id) indexes of migration 0005 for equality on country,
city, company and status), so a page costs the same at the first person and the millionth: the
cursor is the last id shown, never an offset.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.errors import ValidationError
from peoplesync.people.filter_sql import where_clause
from peoplesync.people.model import Person
from peoplesync.people.person_filter import Checked
from peoplesync.people.store import PeopleStore
from peoplesync.people.tables import person_emails, persons

MAX_PAGE = 200


@dataclass(frozen=True)
class PersonPage:
    """One page of persons and the cursor of the next page (None on the last)."""

    persons: list[Person]
    next_cursor: str | None


# A prefix matching more persons than this is "common": its branch walks the newest ids and
# stops at the page's end; a rarer one reads its few matches from the prefix index and sorts
# them. (Asking the prefix index for the newest matches of "a" sorts a tenth of all persons;
# walking the ids for "zq" reads every person.)
COMMON = 1000
_CURSOR = re.compile(r"[0-9a-f]{32}")  # a person id (new_id), the only cursor a page gives
_MAX_CHAR = chr(0x10FFFF)


def _prefix(column: sa.ColumnElement[str], prefix: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix`` (both lower-case), in an index-friendly form."""
    if dialect == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(f"{escaped}%", escape="\\")
    # SQLite compares with binary collation: a half-open range is exactly "starts with".
    stem = prefix.rstrip(_MAX_CHAR)
    if not stem:
        return column >= prefix
    return sa.and_(column >= prefix, column < stem[:-1] + chr(ord(stem[-1]) + 1))


@dataclass(frozen=True)
class _Branch:
    """One way of matching a search: the id it yields and its condition, in the form the
    prefix indexes serve and in a form they do not (so the database walks the ids instead)."""

    id: sa.ColumnElement[str]
    indexed: sa.ColumnElement[bool]
    walked: sa.ColumnElement[bool]


def _branches(query: str, dialect: str) -> list[_Branch]:
    """Persons whose first name, last name or any email starts with ``query`` ("ada lov" also
    finds first name "Ada" with last name "Lovelace")."""
    text = " ".join(query.lower().split())
    if not text:
        return []
    first = sa.func.lower(persons.c.first_name)
    last = sa.func.lower(persons.c.last_name)
    email = person_emails.c.email_key

    def both(
        id_column: sa.ColumnElement[str],
        build: Callable[[Callable[[sa.ColumnElement[str]], sa.ColumnElement[str]]], Any],
    ) -> _Branch:
        return _Branch(id_column, build(lambda c: c), build(lambda c: c.concat("")))

    def by_name(name: str) -> list[_Branch]:
        found = [
            both(persons.c.id, lambda w: _prefix(w(first), name, dialect)),
            both(persons.c.id, lambda w: _prefix(w(last), name, dialect)),
        ]
        if " " in name:
            given, family = name.split(" ", 1)
            found.append(
                both(
                    persons.c.id,
                    lambda w: sa.and_(w(first) == given, _prefix(w(last), family, dialect)),
                )
            )
        return found

    branches = [both(person_emails.c.person_id, lambda w: _prefix(w(email), text, dialect))]
    for name in _name_forms(query, dialect):
        branches += by_name(name)
    return branches


def _name_forms(query: str, dialect: str) -> list[str]:
    """The query as ``lower()`` of the database writes a name that matches it. SQLite's
    lower() changes only A-Z (its name index holds "Éric", "Šimić"), so a query with other
    letters is also tried as typed and with capital initials, each lowered as SQLite does."""
    text = " ".join(query.lower().split())
    if dialect != "sqlite" or text.isascii():
        return [text]
    typed = " ".join(query.split())
    capitals = " ".join(word[:1].upper() + word[1:] for word in text.split(" "))
    forms = [_ascii_lower(form) for form in (text, typed, capitals)]
    return list(dict.fromkeys(forms))  # each once, in this order


def _ascii_lower(text: str) -> str:
    return "".join(char.lower() if "A" <= char <= "Z" else char for char in text)


async def _common_branches(conn: AsyncConnection, query: str, dialect: str) -> frozenset[int]:
    """Which branches of ``query`` match more than COMMON persons (one cheap index probe)."""
    branches = _branches(query, dialect)
    if not branches:
        return frozenset()
    counts = [
        sa.select(sa.func.count())
        .select_from(sa.select(sa.literal(1)).where(branch.indexed).limit(COMMON + 1).subquery())
        .scalar_subquery()
        for branch in branches
    ]
    row = (await conn.execute(sa.select(*counts))).one()
    return frozenset(i for i, count in enumerate(row) if count > COMMON)


def _matching_ids(
    query: str,
    dialect: str,
    after: str | None,
    limit: int | None,
    condition: sa.ColumnElement[bool] | None = None,
    common: frozenset[int] = frozenset(),
) -> sa.Select[Any] | None:
    """Ids of persons that match ``query`` (see ``_branches``), newest first.

    One branch per index, each already ordered and cut to ``limit``; ``common`` branches walk
    the ids newest first, the others read the prefix index (an OR of the conditions would
    make the database scan every person for a rare prefix).
    """
    branches = _branches(query, dialect)
    if not branches:
        return None
    parts = []
    for i, found in enumerate(branches):
        column = found.id
        # On PostgreSQL the first-and-last-name branch always reads its index (the first name
        # is equal, so the range is narrow): the planner misjudges its walked form and scans
        # every person. SQLite, which fetches each id from the table, walks faster.
        walk = i in common and limit is not None and (i < 3 or dialect == "sqlite")
        branch = sa.select(column.label("id")).where(found.walked if walk else found.indexed)
        if condition is not None:
            if column is person_emails.c.person_id:
                branch = branch.join(persons, persons.c.id == person_emails.c.person_id)
            branch = branch.where(condition)
        if after:
            branch = branch.where(column < after)
        if limit is not None:
            branch = branch.order_by(column.desc()).limit(limit)
        parts.append(branch.subquery().select())
    found_ids = sa.union(*parts).subquery()
    statement = sa.select(found_ids.c.id).order_by(found_ids.c.id.desc())
    return statement.limit(limit) if limit is not None else statement


def _ids_statement(
    query: str,
    conditions: Sequence[Checked],
    dialect: str,
    after: str | None,
    limit: int | None,
    common: frozenset[int] = frozenset(),
) -> sa.Select[Any]:
    condition = where_clause(conditions, dialect)
    statement = _matching_ids(query, dialect, after, limit, condition, common)
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
    and satisfy every condition. A cursor that is no person id is a ValidationError (it would
    otherwise act as the first page, and a client paging on it would never end)."""
    if after is not None and not _CURSOR.fullmatch(after):
        raise ValidationError(
            "the page cursor is not valid",
            record="page",
            field="after",
            hint="start from the first page; the next page's cursor is the answer's next",
        )
    limit = max(1, min(limit, MAX_PAGE))
    dialect = engine.dialect.name
    async with engine.connect() as conn:
        common = await _common_branches(conn, query, dialect)
        statement = _ids_statement(query, conditions, dialect, after, limit + 1, common)
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
    async with engine.connect() as conn:
        common = await _common_branches(conn, query, engine.dialect.name)
    while True:
        statement = _ids_statement(query, conditions, engine.dialect.name, after, batch, common)
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
