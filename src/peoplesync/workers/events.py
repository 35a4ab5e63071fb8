"""What a running loop tells whoever listens (a console, a log, a web page), as data.

Loops take an :data:`EventSink`; they never print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peoplesync.errors import PeopleSyncError


@dataclass(frozen=True)
class PassDone:
    """A pass went through; ``report`` is what it did."""

    report: Any


@dataclass(frozen=True)
class Retrying:
    """A pass stopped on ``error``; the loop tries again in ``delay`` seconds."""

    error: PeopleSyncError
    delay: float


@dataclass(frozen=True)
class Waiting:
    """The gate holds the loop (the API allowance is spent) for ``delay`` seconds."""

    reason: str
    until: datetime | None
    delay: float


@dataclass(frozen=True)
class StreamBatch:
    """A step's change stream applied a batch; ``report`` is the stream's running report."""

    step: str
    report: Any


@dataclass(frozen=True)
class StreamTrouble:
    """A step's change stream stopped (``gave_up``: polling alone from now on)."""

    step: str
    error: PeopleSyncError
    gave_up: bool


Event = PassDone | Retrying | Waiting | StreamBatch | StreamTrouble
EventSink = Callable[[Event], Any]


def ignore(_event: Event) -> None:
    """A sink that hears nothing."""


__all__ = [
    "Event",
    "EventSink",
    "PassDone",
    "Retrying",
    "StreamBatch",
    "StreamTrouble",
    "Waiting",
    "ignore",
]
