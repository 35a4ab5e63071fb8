"""An integration's status page as data: state, budget, counts per day and step, problems
grouped by code, and the recent operation log (``peoplesync status`` and the web show it)."""

from __future__ import annotations

from typing import Any

from peoplesync.sync.status.recorder import API_STEP
from peoplesync.sync.status.state import Counts, group_problems, last_days
from peoplesync.sync.status.store import StatusStore


async def status_report(
    statuses: StatusStore, name: str, *, days: int = 7, per_code: int = 10, log: int = 20
) -> dict[str, Any]:
    """The status page of an integration as data."""
    status = await statuses.status(name)
    today = statuses.clock.now().date()
    window = last_days(today, days)
    daily = await statuses.daily(name, window[0])
    rows = []
    for day in window:
        steps = daily.get(day, {})
        total = sum((c for step, c in steps.items() if step != API_STEP), Counts())
        rows.append(
            {
                "day": day.isoformat(),
                "api_calls": sum(c.api_calls for c in steps.values()),
                "created": total.created,
                "updated": total.updated,
                "deleted": total.deleted,
                "rejected": total.rejected,
                "steps": {
                    step: {
                        "created": c.created,
                        "updated": c.updated,
                        "deleted": c.deleted,
                        "rejected": c.rejected,
                    }
                    for step, c in sorted(steps.items())
                    if step != API_STEP
                },
            }
        )
    return {
        "integration": name,
        "state": status.state.value,
        "reason": status.reason,
        "since": status.since.isoformat() if status.since else None,
        "until": status.until.isoformat() if status.until else None,
        "api_budget": {"share": status.api_share, "calls_today": rows[-1]["api_calls"]},
        "last_sync": await statuses.last_sync(name),
        "days": rows,
        "problems": group_problems(await statuses.problems(name), per_code=per_code),
        "log": [
            {
                "at": o.at.isoformat(),
                "operation": o.operation,
                "object": o.object,
                "records": o.records,
                "outcome": o.outcome,
                "detail": o.detail,
            }
            for o in await statuses.operations(name, limit=log)
        ],
    }


__all__ = ["status_report"]
