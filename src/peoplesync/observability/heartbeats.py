"""Worker liveness: when each worker loop of this process last showed it was alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peoplesync.clock import Clock


@dataclass(frozen=True)
class Beat:
    """One worker loop's last sign of life."""

    integration: str
    loop: str
    at: datetime


class Heartbeats:
    """The last heartbeat of every worker loop (integration, loop kind) in this process."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._beats: dict[tuple[str, str], datetime] = {}

    def beat(self, integration: str, loop: str) -> None:
        """The loop is alive now."""
        self._beats[(integration, loop)] = self.clock.now()

    def forget(self, integration: str, loop: str | None = None) -> None:
        """The integration's loops (or its ``loop``) stopped for good (it was deleted)."""
        self._beats = {
            key: at
            for key, at in self._beats.items()
            if key[0] != integration or (loop is not None and key[1] != loop)
        }

    def beats(self) -> list[Beat]:
        """Every loop's last heartbeat, by integration and loop."""
        return [Beat(i, loop, at) for (i, loop), at in sorted(self._beats.items())]
