"""Custom attribute definitions in the SQL People store: defined, cached, counted."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ValidationError
from peoplesync.people import tables as t
from peoplesync.people.attribute import AttributeDefinition, AttributeType, check_attribute_name
from peoplesync.people.change_log import ChangeWriter


class AttributeStore:
    """Attribute operations of the SQL People store (definitions cached until changed)."""

    engine: AsyncEngine
    clock: Clock
    _definitions: dict[str, AttributeDefinition] | None

    async def attributes(self) -> dict[str, AttributeDefinition]:
        """Every custom attribute definition by name (cached; refreshed on change)."""
        if self._definitions is None:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(sa.select(t.attribute_definitions))).all()
            self._definitions = {
                r.name: AttributeDefinition(
                    r.name, AttributeType(r.type), r.mandatory, r.description
                )
                for r in rows
            }
        return dict(self._definitions)

    async def define_attribute(self, definition: AttributeDefinition, *, origin: str) -> None:
        """Create or change a custom attribute; its type cannot change once values exist."""
        check_attribute_name(definition.name)
        current = (await self.attributes()).get(definition.name)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if current is not None and current.type is not definition.type:
                used = await conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(t.persons)
                    .where(_attribute_present(conn, definition.name))
                )
                if used:
                    raise ValidationError(
                        f"cannot change the type from {current.type} to {definition.type}: "
                        f"{used} person(s) have a value",
                        record=f"attribute {definition.name!r}",
                        field="type",
                        hint="create a new attribute and copy the values over",
                    )
            values = {
                "type": definition.type.value,
                "mandatory": definition.mandatory,
                "description": definition.description,
            }
            if current is None:
                await conn.execute(
                    t.attribute_definitions.insert(),
                    {"name": definition.name, "created_at": now, **values},
                )
            else:
                await conn.execute(
                    t.attribute_definitions.update()
                    .where(t.attribute_definitions.c.name == definition.name)
                    .values(**values)
                )
            before = None if current is None else _definition_dict(current)
            await ChangeWriter(conn, now, origin).write_one(
                "attribute",
                definition.name,
                "create" if current is None else "update",
                1,
                {"definition": [before, _definition_dict(definition)]},
            )
        self._definitions = None

    async def count_lacking(self, name: str) -> int:
        """How many persons have no value for the custom attribute ``name``."""
        async with self.engine.connect() as conn:
            lacking = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(t.persons)
                .where(sa.not_(_attribute_present(conn, name)))
            )
        return int(lacking or 0)


def _definition_dict(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "type": definition.type.value,
        "mandatory": definition.mandatory,
        "description": definition.description,
    }


def _attribute_present(conn: AsyncConnection, name: str) -> sa.ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return t.persons.c.attributes.op("?", return_type=sa.Boolean)(name)
    return sa.func.json_type(t.persons.c.attributes, f'$."{name}"').is_not(None)
