"""The People list's filters as the web carries them: ``field``/``op``/``value`` query parameters
(one triple per condition, in order), an optional saved ``segment`` and the search ``q``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import QueryParams

from peoplesync.clock import SystemClock
from peoplesync.errors import RecordError, ValidationError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.person_filter import (
    Checked,
    Condition,
    Kind,
    Op,
    check_conditions,
    conditions_from_text,
    field_kinds,
)
from peoplesync.people.person_search import PersonPage, count_matching, list_persons
from peoplesync.people.segment_store import Segment, SegmentStore
from peoplesync.people.store import PeopleStore

MAX_PARAM = 200
OP_LABELS = {
    Op.EQUALS: "equals",
    Op.CONTAINS: "contains",
    Op.EMPTY: "is empty",
    Op.NOT_EMPTY: "is not empty",
    Op.GT: "greater than",
    Op.GTE: "at least",
    Op.LT: "less than",
    Op.LTE: "at most",
}


@dataclass
class Listing:
    """What the People list shows: the page, the filter as typed, and any filter error."""

    q: str
    conditions: list[Condition]
    after: str | None
    segment: Segment | None = None
    page: PersonPage = field(default_factory=lambda: PersonPage([], None))
    error: RecordError | None = None
    total: int | None = None
    fields: dict[str, Kind] = field(default_factory=dict)

    def query_string(self, *, after: str | None = None) -> str:
        """The list's address parameters (for pager links, export and "save as segment")."""
        pairs: list[tuple[str, str]] = []
        if self.segment is not None:
            pairs.append(("segment", self.segment.id))
        if self.q:
            pairs.append(("q", self.q))
        for condition in self.conditions:
            pairs += [("field", condition.field), ("op", condition.op), ("value", condition.value)]
        if after:
            pairs.append(("after", after))
        return urlencode(pairs)


def conditions_from(params: QueryParams | Mapping[str, Sequence[str]]) -> list[Condition]:
    """The conditions of ``field``/``op``/``value`` parameters; rows without a field are
    dropped (the form's empty row)."""
    if isinstance(params, QueryParams):
        fields, ops, values = (params.getlist(n) for n in ("field", "op", "value"))
    else:
        fields, ops, values = (list(params.get(n, ())) for n in ("field", "op", "value"))
    found: list[Condition] = []
    for index, name in enumerate(fields):
        if not name.strip():
            continue
        op = ops[index] if index < len(ops) else ""
        value = values[index] if index < len(values) else ""
        for part, text in (("field", name), ("op", op), ("value", value)):
            if len(text) > MAX_PARAM:
                raise ValidationError(
                    f"at most {MAX_PARAM} characters",
                    record="filter",
                    field=f"filters[{len(found)}].{part}",
                )
        found.append(Condition(name.strip(), op.strip() or Op.EQUALS.value, value))
    return found


async def resolve(
    store: PeopleStore,
    engine: AsyncEngine,
    conditions: Sequence[Condition],
    segment_id: str | None,
    definitions: Mapping[str, AttributeDefinition],
) -> tuple[Segment | None, list[Checked]]:
    """The segment (if named) and every condition checked: the segment's, then the extra
    ones given with it."""
    segment = None
    checked: list[Checked] = []
    if segment_id:
        # Only reads: the clock stamps writes.
        segment = await SegmentStore(engine, SystemClock()).get(segment_id)
        checked = segment.checked(definitions)
    return segment, checked + check_conditions(conditions, definitions)


async def people_listing(
    store: PeopleStore,
    engine: AsyncEngine,
    params: QueryParams,
    *,
    limit: int,
    with_total: bool = False,
) -> Listing:
    """The People list for the page's parameters; a bad filter is kept in ``error``."""
    q = params.get("q", "")[:MAX_PARAM]
    after = params.get("after") or None
    definitions = await store.attributes()
    listing = Listing(q=q, conditions=[], after=after, fields=field_kinds(definitions))
    try:
        listing.conditions = conditions_from(params)
        segment_id = params.get("segment") or None
        listing.segment, checked = await resolve(
            store, engine, listing.conditions, segment_id, definitions
        )
        query = q or (listing.segment.query if listing.segment else "")
        listing.page = await list_persons(
            store, engine, query=query, conditions=checked, after=after, limit=limit
        )
    except RecordError as error:
        listing.error = error
        return listing
    if with_total:
        listing.total = await count_matching(engine, query=query, conditions=checked)
    return listing


__all__ = [
    "OP_LABELS",
    "Listing",
    "conditions_from",
    "conditions_from_text",
    "people_listing",
    "resolve",
]
