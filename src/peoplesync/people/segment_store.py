"""Saved segments: a named People filter (a name or email prefix and attribute conditions).

A segment stores what the user typed; its conditions are checked against the attribute
definitions whenever it is used, so a segment naming an attribute that was since removed
fails with a clear error instead of matching nobody silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ConfigurationError, NotFoundError, RecordError, ValidationError
from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.model import new_id
from peoplesync.people.person_filter import Checked, Condition, SegmentRule, check_conditions
from peoplesync.people.tables import segments

MAX_NAME = 100
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Segment:
    """A saved filter of the People list."""

    id: str
    name: str
    query: str
    conditions: tuple[Condition, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime

    def checked(self, definitions: Mapping[str, AttributeDefinition]) -> list[Checked]:
        """The conditions checked against today's attribute definitions."""
        try:
            return check_conditions(self.conditions, definitions)
        except ValidationError as error:
            raise ValidationError(
                error.detail,
                record=f"segment {self.name!r}",
                field=error.field,
                hint=error.hint or "edit the segment",
            ) from None

    def rule(self, definitions: Mapping[str, AttributeDefinition]) -> SegmentRule:
        """The pure membership rule (for outbound steps that push only a segment)."""
        return SegmentRule(self.name, self.query, tuple(self.checked(definitions)))

    def json(self) -> dict[str, Any]:
        """The segment in the REST API."""
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "filters": [c.json() for c in self.conditions],
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _row_segment(row: Any) -> Segment:
    return Segment(
        id=row.id,
        name=row.name,
        query=row.query,
        conditions=tuple(
            Condition(str(c["field"]), str(c["op"]), str(c.get("value", "")))
            for c in row.conditions
        ),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError("give the segment a name", record="segment", field="name")
    if len(cleaned) > MAX_NAME:
        raise ValidationError(
            f"is {len(cleaned)} characters long, at most {MAX_NAME} are allowed",
            record="segment",
            field="name",
        )
    return cleaned


def _check_query(query: str) -> str:
    cleaned = " ".join(query.split())
    if len(cleaned) > MAX_QUERY:
        raise ValidationError(
            f"is {len(cleaned)} characters long, at most {MAX_QUERY} are allowed",
            record="segment",
            field="query",
        )
    return cleaned


class SegmentStore:
    """Segments in the People database."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def list(self) -> list[Segment]:
        """Every segment by name."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(segments).order_by(segments.c.name))).all()
        return [_row_segment(row) for row in rows]

    async def get(self, segment_id: str) -> Segment:
        """A segment by id; NotFoundError when there is none."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(segments).where(segments.c.id == segment_id))
            ).first()
        if row is None:
            raise NotFoundError("no segment has this id", record=segment_id, field="id")
        return _row_segment(row)

    async def by_name(self, name: str) -> Segment:
        """A segment by name; NotFoundError when there is none."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(segments).where(segments.c.name == name.strip()))
            ).first()
        if row is None:
            raise NotFoundError("no segment has this name", record=name, field="segment")
        return _row_segment(row)

    async def save(
        self,
        *,
        name: str,
        query: str,
        conditions: Sequence[Condition],
        definitions: Mapping[str, AttributeDefinition],
        author: str,
        segment_id: str | None = None,
    ) -> Segment:
        """Create a segment (no id) or replace one; the name must be free."""
        values = {
            "name": _check_name(name),
            "query": _check_query(query),
            "conditions": [c.json() for c in conditions],
            "updated_at": self.clock.now(),
        }
        check_conditions(conditions, definitions)
        try:
            async with self.engine.begin() as conn:
                if segment_id is None:
                    segment_id = new_id()
                    await conn.execute(
                        segments.insert(),
                        {
                            **values,
                            "id": segment_id,
                            "created_by": author,
                            "created_at": values["updated_at"],
                        },
                    )
                else:
                    done = await conn.execute(
                        segments.update().where(segments.c.id == segment_id).values(**values)
                    )
                    if done.rowcount == 0:
                        raise NotFoundError("no segment has this id", record=segment_id, field="id")
        except IntegrityError:
            raise ValidationError(
                f"another segment is called {values['name']!r}",
                record="segment",
                field="name",
                hint="choose another name",
            ) from None
        return await self.get(segment_id)

    async def delete(self, segment_id: str) -> None:
        """Forget a segment; NotFoundError when there is none."""
        async with self.engine.begin() as conn:
            done = await conn.execute(segments.delete().where(segments.c.id == segment_id))
        if done.rowcount == 0:
            raise NotFoundError("no segment has this id", record=segment_id, field="id")

    async def rules(
        self, names: Iterable[str], definitions: Mapping[str, AttributeDefinition]
    ) -> dict[str, SegmentRule]:
        """Membership rules of the named segments; ConfigurationError names a segment that
        does not exist or no longer fits the attributes (a sync step must not guess)."""
        found: dict[str, SegmentRule] = {}
        for name in dict.fromkeys(names):
            try:
                found[name] = (await self.by_name(name)).rule(definitions)
            except RecordError as error:
                raise ConfigurationError(
                    f"segment {name!r}: {error.detail}",
                    hint="create the segment in People -> Segments, or change the step's "
                    "segment (peoplesync steps set STEP --segment NAME)",
                ) from None
        return found


__all__ = ["Segment", "SegmentStore"]
