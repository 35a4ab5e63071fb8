"""How a run of work ended, as data: the CLI maps it to an exit code, a supervisor to a retry.

A loop never returns a shell exit code and never prints; it returns one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from peoplesync.errors import PeopleSyncError

GateState = Literal["refused", "reconnect_needed", "api_limit_reached", "awaiting_review"]


@dataclass(frozen=True)
class Finished:
    """The run did what it was asked (one pass, or a job); ``report`` is its last report."""

    report: Any


@dataclass(frozen=True)
class Idle:
    """There was nothing to run (for example no enabled outbound step)."""

    reason: str


@dataclass(frozen=True)
class Gated:
    """The integration may not run now: paused, to be connected again, out of API calls
    (until ``until``), or its outbound steps await review. ``cause`` is the error that
    closed the gate during the run, if one did."""

    state: GateState
    reason: str
    until: datetime | None = None
    hint: str = ""
    cause: PeopleSyncError | None = None

    def headline(self) -> str:
        """The state, and until when."""
        when = f" until {self.until.isoformat(timespec='seconds')}" if self.until else ""
        return f"{self.state}{when}"

    def describe(self) -> str:
        """One line: the state, until when, and why."""
        return f"{self.headline()}: {self.reason}"


@dataclass(frozen=True)
class Failed:
    """The run stopped on an error (a :class:`PeopleSyncError` from a loop; anything else
    is a bug a supervisor caught); ``retry_in`` seconds when trying again may help."""

    error: Exception
    retry_in: float | None = None


@dataclass(frozen=True)
class Stopped:
    """The run was stopped from outside before it ended (the gate closed meanwhile)."""

    reason: str


Outcome = Finished | Idle | Gated | Failed | Stopped

__all__ = ["Failed", "Finished", "GateState", "Gated", "Idle", "Outcome", "Stopped"]
