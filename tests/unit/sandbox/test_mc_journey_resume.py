"""Where a contact of a killed journey run stands, from the steps the run recorded."""

from __future__ import annotations

from typing import Any

import pytest

from peoplesync.sandbox.marketing_cloud.journey_model import JourneyProblem, load_journey
from peoplesync.sandbox.marketing_cloud.journey_resume import recorded_tally, standing

JOURNEY = load_journey(
    {
        "name": "resume",
        "entry": {"data_extension": "entry", "event_definition_key": "E"},
        "activities": [
            {"key": "SEND", "type": "custom", "config_url": "https://a/c.json", "next": "WAIT"},
            {"key": "WAIT", "type": "wait", "seconds": 30, "next": "DECIDE"},
            {
                "key": "DECIDE",
                "type": "custom",
                "config_url": "https://a/d.json",
                "outcomes": {"YES": "REPLY", "NO": None},
            },
            {
                "key": "REPLY",
                "type": "wait_until_event",
                "event_definition_key": "Reply",
                "timeout_seconds": 60,
                "next": "SPLIT",
                "timeout_next": None,
            },
            {
                "key": "SPLIT",
                "type": "decision_split",
                "branches": [
                    {
                        "label": "a",
                        "when": {"value": "{{Contact.Key}}", "equals": "x"},
                        "next": None,
                    },
                    {"label": "rest", "next": "LAST"},
                ],
            },
            {"key": "LAST", "type": "wait", "seconds": 1},
        ],
    }
)


def _step(seq: int, activity: str, status: str, **more: Any) -> dict[str, Any]:
    return {
        "contact_key": "C-1",
        "seq": seq,
        "activity": activity,
        "at": 100.0 + seq,
        "status": status,
        "code": more.get("code"),
        "out": more.get("out", {}),
        "branch": more.get("branch"),
        "ms": more.get("ms", 0.0),
    }


def test_a_contact_without_steps_starts_at_the_first_activity() -> None:
    state = standing(JOURNEY, [])
    assert (state.next, state.seq, state.path, state.since) == ("SEND", 0, [], None)
    assert not state.through


def test_a_contact_continues_after_its_last_step_with_its_out_arguments() -> None:
    steps = [
        _step(2, "SEND", "retry", code=200, out={"messageId": "m-1"}),  # any order
        _step(1, "SEND", "ok", code=200, out={"messageId": "m-1"}, ms=250.0),
    ]
    state = standing(JOURNEY, steps)
    assert state.next == "WAIT"  # the injected retry is not a step forward
    assert state.seq == 2
    assert state.outputs == {"SEND": {"messageId": "m-1"}}
    assert state.since == pytest.approx(101.25)  # the Wait counts from the send's end
    assert state.path == ["SEND"]


def test_outcomes_events_and_branches_route_as_the_runner_did() -> None:
    steps = [
        _step(1, "SEND", "ok", code=200),
        _step(2, "WAIT", "waited"),
        _step(3, "DECIDE", "ok", code=200, out={"branchResult": "YES"}, branch="YES"),
        _step(4, "REPLY", "event"),
        _step(5, "SPLIT", "routed", branch="rest"),
    ]
    state = standing(JOURNEY, steps)
    assert state.next == "LAST"
    assert state.branches == [("DECIDE", "YES"), ("SPLIT", "rest")]
    assert state.path == ["SEND", "WAIT", "DECIDE[YES]", "REPLY", "SPLIT[rest]"]
    timed_out = standing(JOURNEY, [*steps[:3], _step(4, "REPLY", "timed_out")])
    assert timed_out.through and timed_out.ejected_at is None
    no = standing(JOURNEY, [*steps[:2], _step(3, "DECIDE", "ok", code=200, branch="NO")])
    assert no.through


def test_an_ejected_contact_is_through_and_counted() -> None:
    ejected = standing(JOURNEY, [_step(1, "SEND", "ejected", code=400)])
    waiting = standing(JOURNEY, [_step(1, "SEND", "ok", code=200)])
    assert ejected.through and ejected.ejected_at == "SEND"
    paths, at, through = recorded_tally([ejected, waiting])
    assert (dict(paths), dict(at), through) == ({"SEND": 1}, {"SEND": 1}, 1)


def test_steps_of_another_journey_are_refused_naming_the_contact() -> None:
    with pytest.raises(JourneyProblem, match="contact C-1 has a step at WAIT where the journey"):
        standing(JOURNEY, [_step(1, "WAIT", "waited")])
