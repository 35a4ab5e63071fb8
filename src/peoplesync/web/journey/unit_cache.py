"""Business units' opened keys kept for a few seconds: Journey Builder calls per contact."""

from __future__ import annotations

import time
from collections.abc import Callable

from peoplesync.errors import NotFoundError
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys


class UnitCache:
    """``keys(name)`` answered from memory for ``ttl`` seconds (a change shows after that)."""

    def __init__(
        self, units: BusinessUnits, *, ttl: float = 10.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._units = units
        self._ttl = ttl
        self._now = now
        self._kept: dict[str, tuple[float, UnitKeys | None]] = {}

    async def keys(self, name: str) -> UnitKeys | None:
        """The unit's keys, or None when there is no such unit (remembered as briefly)."""
        kept = self._kept.get(name)
        if kept is not None and self._now() - kept[0] < self._ttl:
            return kept[1]
        try:
            found: UnitKeys | None = await self._units.keys(name)
        except NotFoundError:
            found = None
        if len(self._kept) > 1000:
            self._kept.clear()
        self._kept[name] = (self._now(), found)
        return found
