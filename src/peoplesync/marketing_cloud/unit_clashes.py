"""Business unit names and MIDs another unit has already: each a SettingTakenError naming
its field (a form shows them beside the other fields' errors)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.errors import SettingTakenError
from peoplesync.marketing_cloud.tables import business_units as _u


async def clashes(
    conn: AsyncConnection, name: str | None, mid: str, other_than: str | None
) -> list[SettingTakenError]:
    """A :class:`SettingTakenError` naming the field for each of ``name`` and ``mid`` taken."""
    found: list[SettingTakenError] = []
    if name is not None:
        taken = await conn.execute(sa.select(_u.c.id).where(_u.c.name == name))
        if taken.first() is not None:
            found.append(
                SettingTakenError(
                    f"a business unit named {name!r} exists",
                    hint="choose another name, or remove it first "
                    "(peoplesync marketing-cloud remove NAME)",
                    web_hint="choose another name, or remove that unit first (its page's Remove "
                    "button, or DELETE /api/v1/marketing-cloud/units/NAME)",
                    field="name",
                )
            )
    query = sa.select(_u.c.name).where(_u.c.mid == mid)
    if other_than is not None:
        query = query.where(_u.c.name != other_than)
    owner = (await conn.execute(query)).scalar()
    if owner is not None:
        found.append(
            SettingTakenError(
                f"MID {mid} belongs to the business unit {owner!r} already",
                hint="each business unit is added once; edit that one instead",
                field="mid",
            )
        )
    return found


__all__ = ["clashes"]
