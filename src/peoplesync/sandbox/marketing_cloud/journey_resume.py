"""Where a contact of a killed run stands, read from the steps the run recorded.

``journeys run`` killed mid-journey and started again on the same journey continues the run
it left unfinished: each contact picks up after its last recorded step. Steps reach the
store in batches, so the last few before the kill may be missing; those contacts repeat the
step, with the same run, contact and activity ids, which is what Journey Builder sends when
it retries a call (a well-behaved activity answers it the same and does not act twice).

Pure: the decisions here read recorded steps and the journey, nothing else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from peoplesync.sandbox.marketing_cloud.journey_model import Activity, Journey, JourneyProblem


@dataclass
class Standing:
    """A contact of a resumed run: the activity it goes to next (None: it is through), the
    last sequence number used, the out-arguments of its custom activities so far, its path,
    and when its last recorded step ended (a Wait counts from there)."""

    next: str | None
    seq: int = 0
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    since: float | None = None
    ejected_at: str | None = None
    branches: list[tuple[str, str]] = field(default_factory=list)  # (activity, label)

    @property
    def through(self) -> bool:
        return self.next is None


def standing(journey: Journey, steps: list[dict[str, Any]]) -> Standing:
    """Where a contact stands after ``steps`` (its recorded rows, any order)."""
    state = Standing(next=journey.first.key)
    for step in sorted(steps, key=lambda each: int(each["seq"])):
        state.seq = max(state.seq, int(step["seq"]))
        if step["status"] == "retry":  # an injected repeat of the step before
            continue
        key = str(step["activity"])
        if state.next != key:
            raise JourneyProblem(
                f"resume: contact {step['contact_key']} has a step at {key} where the journey "
                f"goes to {state.next}; run the journey as it was, or start a new run"
            )
        activity = journey.activity(key)
        branch = step.get("branch")
        state.path.append(f"{key}[{branch}]" if branch else key)
        state.since = float(step["at"]) + float(step.get("ms") or 0.0) / 1000
        if step["status"] == "ejected":
            state.next, state.ejected_at = None, key
            break
        if branch:  # a decision split's label or a RESTDECISION outcome
            state.branches.append((key, str(branch)))
        if activity.type == "custom":
            state.outputs[key] = dict(step.get("out") or {})
        state.next = _after(activity, str(step["status"]), branch)
    return state


def _after(activity: Activity, status: str, branch: str | None) -> str | None:
    if activity.type == "wait_until_event":
        return activity.next if status == "event" else activity.timeout_next
    if activity.type == "decision_split":
        for each in activity.branches:
            if each.label == branch:
                return each.next
        raise JourneyProblem(f"resume: activity {activity.key} has no branch {branch}")
    if activity.type == "custom" and activity.outcomes:
        return activity.outcomes.get(branch or "")
    return activity.next


def recorded_tally(states: list[Standing]) -> tuple[Counter[str], Counter[str], int]:
    """Paths of the contacts already through, ejections, and how many are through."""
    paths: Counter[str] = Counter()
    ejected: Counter[str] = Counter()
    for state in states:
        if state.through:
            paths[" > ".join(state.path)] += 1
            if state.ejected_at:
                ejected[state.ejected_at] += 1
    return paths, ejected, sum(paths.values())
