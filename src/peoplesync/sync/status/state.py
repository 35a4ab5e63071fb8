"""An integration's state, its API budget and its problems: pure decisions, no I/O.

States: ``active``; ``paused`` (by a person, left only by a person); ``reconnect_needed``
(credentials revoked); ``api_limit_reached`` until a time (peoplesync's share of the org's daily
allowance is spent, or Salesforce answered REQUEST_LIMIT_EXCEEDED); ``error`` (the last pass
failed; the next one tries again). The store keeps them; ``sync_cli`` asks :func:`gate` before
each pass and applies the transitions below after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal

from peoplesync.clock import Clock
from peoplesync.errors import PeopleSyncError, RecordError
from peoplesync.salesforce.failure import ApiLimitReachedError, ReconnectNeededError

DEFAULT_SHARE = 0.5
RECHECK = timedelta(hours=1)
_SALESFORCE_ID = re.compile(r"\b[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?\b")


class State(StrEnum):
    """Where an integration stands."""

    ACTIVE = "active"
    PAUSED = "paused"
    RECONNECT_NEEDED = "reconnect_needed"
    API_LIMIT_REACHED = "api_limit_reached"
    ERROR = "error"


@dataclass(frozen=True)
class IntegrationStatus:
    """An integration's state, why, since when, until when, and its API share."""

    state: State = State.ACTIVE
    reason: str = ""
    since: datetime | None = None
    until: datetime | None = None
    api_share: float = DEFAULT_SHARE


@dataclass(frozen=True)
class Gate:
    """What to do before a pass: run it, wait until ``until``, probe the allowance, or refuse."""

    action: Literal["run", "wait", "probe", "refuse"]
    reason: str = ""
    until: datetime | None = None


def gate(status: IntegrationStatus, now: datetime) -> Gate:
    """Whether a pass may run now."""
    if status.state is State.PAUSED:
        return Gate("refuse", "the integration is paused (peoplesync salesforce resume to go on)")
    if status.state is State.RECONNECT_NEEDED:
        return Gate(
            "refuse",
            f"the integration must be connected again ({status.reason}); "
            "run peoplesync salesforce connect",
        )
    if status.state is State.API_LIMIT_REACHED:
        if status.until is not None and now < status.until:
            return Gate("wait", status.reason, status.until)
        return Gate("probe", status.reason)
    return Gate("run")


def paused(status: IntegrationStatus, now: datetime) -> IntegrationStatus:
    """A person paused the integration."""
    return replace(status, state=State.PAUSED, reason="paused by a person", since=now, until=None)


def resumed(status: IntegrationStatus, now: datetime) -> IntegrationStatus:
    """A person resumed it (also clears reconnect_needed and errors; the next pass tells)."""
    return replace(status, state=State.ACTIVE, reason="", since=now, until=None)


def succeeded(status: IntegrationStatus, now: datetime) -> IntegrationStatus:
    """A pass (or a probe of the allowance) went through; a pause taken meanwhile stays."""
    if status.state in (State.PAUSED, State.ACTIVE):
        return status
    return replace(status, state=State.ACTIVE, reason="", since=now, until=None)


def failed(
    status: IntegrationStatus,
    error: PeopleSyncError,
    now: datetime,
    *,
    recheck: timedelta = RECHECK,
) -> IntegrationStatus:
    """The state after a pass stopped on ``error`` (a pause taken meanwhile stays)."""
    if status.state is State.PAUSED:
        return status
    if isinstance(error, ApiLimitReachedError):
        until = error.until or now + recheck
        return replace(
            status, state=State.API_LIMIT_REACHED, reason=error.message, since=now, until=until
        )
    if isinstance(error, ReconnectNeededError):
        return replace(
            status, state=State.RECONNECT_NEEDED, reason=error.message, since=now, until=None
        )
    return replace(status, state=State.ERROR, reason=str(error), since=now, until=None)


# --- API budget --------------------------------------------------------------------------


def budget_calls(share: float, org_max: int) -> int:
    """How many calls a day peoplesync may spend of an org allowance of ``org_max``."""
    return int(org_max * share)


def next_day(now: datetime) -> datetime:
    """The next UTC midnight, when peoplesync's own daily count starts again."""
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)


def limit_until(
    *,
    share: float,
    org_used: int | None,
    org_max: int | None,
    spent_today: int,
    now: datetime,
    recheck: timedelta = RECHECK,
) -> datetime | None:
    """When to look again if the budget is reached, or None while calls may go on.

    The budget is ``share`` of the org's daily allowance, spent by peoplesync's own calls of the
    UTC day; the org as a whole running out counts too. The allowance is read again after
    ``recheck`` at the latest (Salesforce's window is rolling and an admin may raise it), and at
    midnight peoplesync's own count starts again.
    """
    if org_max is None:
        return None
    if org_used is not None and org_used >= org_max:
        return now + recheck
    if spent_today >= budget_calls(share, org_max):
        return min(next_day(now), now + recheck)
    return None


class BudgetGuard:
    """Called before every Salesforce call; raises ApiLimitReachedError once the budget is spent.

    ``calls`` reads the client's running count and ``usage`` the org's used/max from the last
    ``Sforce-Limit-Info``; ``spent_before`` is what peoplesync already spent today before this
    process started counting.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        share: float,
        calls: Callable[[], int],
        usage: Callable[[], tuple[int | None, int | None]],
        spent_before: int = 0,
        recheck: timedelta = RECHECK,
    ) -> None:
        self.clock = clock
        self.share = share
        self.calls = calls
        self.usage = usage
        self.recheck = recheck
        self._day = clock.now().date()
        self._base = spent_before - calls()
        self._probing = False

    def spent_today(self) -> int:
        """peoplesync's calls of the current UTC day."""
        today = self.clock.now().date()
        if today != self._day:
            self._day, self._base = today, -self.calls()
        return self._base + self.calls()

    def until(self) -> datetime | None:
        """When the budget allows calls again, or None if it allows them now."""
        used, org_max = self.usage()
        return limit_until(
            share=self.share,
            org_used=used,
            org_max=org_max,
            spent_today=self.spent_today(),
            now=self.clock.now(),
            recheck=self.recheck,
        )

    def __call__(self) -> None:
        if self._probing:
            return
        until = self.until()
        if until is not None:
            raise ApiLimitReachedError(
                f"peoplesync's API budget ({self.share:.0%} of the org's daily allowance) "
                f"is spent; resuming at {until.isoformat(timespec='seconds')} at the latest",
                until=until,
            )

    @contextmanager
    def probing(self) -> Iterator[None]:
        """Let calls through (one read of /limits to see whether the allowance returned)."""
        self._probing = True
        try:
            yield
        finally:
            self._probing = False


# --- problems ----------------------------------------------------------------------------

WARNING_HINTS = {
    "LEAD_CONVERTED": "nothing to do: the person now follows the contact",
    "DUPLICATE_EMAIL_IN_SALESFORCE": "merge the duplicate records in Salesforce",
}


@dataclass(frozen=True)
class Problem:
    """One error or warning about one record, as the status page shows it. ``changed_at``
    is when the record last changed in Salesforce, when known: the same version met again
    (a re-read after a crash, a poll's overlap) does not count as seen once more."""

    severity: Literal["error", "warning"]
    code: str
    record: str
    field: str
    message: str
    hint: str
    changed_at: datetime | None = None


def record_id(name: str | None) -> str:
    """The Salesforce id in a record name such as ``Lead 00Q...`` (or the name itself)."""
    if not name:
        return ""
    found = _SALESFORCE_ID.findall(name)
    return str(found[0]) if found else name


def error_problem(error: RecordError) -> Problem:
    """A rejected record as a problem: the Salesforce code when there is one, else ours."""
    return Problem(
        "error",
        getattr(error, "error_code", "") or error.code,
        record_id(error.record),
        error.field or "",
        error.detail,
        error.hint,
    )


def warning_problem(code: str, text: str) -> Problem:
    """A warning of an inbound report (a sentence naming the record first) as a problem."""
    return Problem("warning", code, record_id(text), "", text, WARNING_HINTS.get(code, ""))


@dataclass(frozen=True)
class Counts:
    """Records written by one step, and API calls, to add to a day's counters."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0
    api_calls: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created,
            self.updated + other.updated,
            self.deleted + other.deleted,
            self.rejected + other.rejected,
            self.api_calls + other.api_calls,
        )

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.created - other.created,
            self.updated - other.updated,
            self.deleted - other.deleted,
            self.rejected - other.rejected,
            self.api_calls - other.api_calls,
        )

    @property
    def empty(self) -> bool:
        """Nothing to add."""
        return not (self.created or self.updated or self.deleted or self.rejected or self.api_calls)


def last_days(today: date, days: int) -> list[date]:
    """``days`` days ending with ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def group_problems(
    rows: Sequence[Mapping[str, Any]], *, per_code: int = 10
) -> list[dict[str, Any]]:
    """Problems grouped by code (errors first, then by how many records), each group with
    up to ``per_code`` records: id, step, field, message, and how often it was seen."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            (row["severity"], row["code"]),
            {
                "severity": row["severity"],
                "code": row["code"],
                "hint": row["hint"],
                "records": 0,
                "examples": [],
            },
        )
        group["records"] += 1
        if len(group["examples"]) < per_code:
            group["examples"].append(
                {
                    "record": row["record_id"],
                    "step": row["step"],
                    "field": row["field"],
                    "message": row["message"],
                    "seen": row["count"],
                    "last_seen": row["last_seen"].isoformat(),
                }
            )
    return sorted(
        groups.values(), key=lambda g: (g["severity"] != "error", -g["records"], g["code"])
    )


def replace_share(status: IntegrationStatus, share: float) -> IntegrationStatus:
    """The status with another share of the org's daily allowance."""
    if not 0 < share <= 1:
        raise ValueError("the API share is a fraction above 0 and at most 1")
    return replace(status, api_share=share)
