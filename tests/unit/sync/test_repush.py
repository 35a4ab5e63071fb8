"""The re-push marks: which outbound steps wait for their linked persons to be pushed after a
mapping change, and when a pass may clear them."""

from __future__ import annotations

import dataclasses

from peoplesync.sync.mapping import Mode
from peoplesync.sync.outbound.plan import OUTBOUND_MAPPINGS
from peoplesync.sync.outbound.repush import cleared, fingerprint, marked, repush_key, waiting

LINES = OUTBOUND_MAPPINGS["Lead"]


def test_the_fingerprint_follows_what_a_step_writes() -> None:
    assert fingerprint(LINES) == fingerprint(tuple(LINES))
    assert fingerprint(LINES) != fingerprint(LINES[:-1])
    fill = (dataclasses.replace(LINES[0], mode=Mode.FILL), *LINES[1:])
    assert fingerprint(fill) != fingerprint(LINES)
    assert repush_key("salesforce:default") == "salesforce:default:repush"


def test_a_pass_takes_only_steps_marked_under_its_own_mapping() -> None:
    new, old = fingerprint(LINES), fingerprint(LINES[:-1])
    state = marked(None, "Person to Lead", new, "mapping changed")
    assert state == {"steps": {"Person to Lead": {"fingerprint": new, "why": "mapping changed"}}}
    assert waiting(state, {"Person to Lead": new, "Person to Contact": new}) == ["Person to Lead"]
    assert waiting(state, {"Person to Lead": old}) == []  # a pass with the old mapping
    assert waiting(None, {"Person to Lead": new}) == []
    assert waiting({"steps": {"Person to Lead": "junk"}}, {"Person to Lead": new}) == []


def test_a_mark_is_cleared_unless_the_step_was_marked_again_meanwhile() -> None:
    first, second = fingerprint(LINES[:-1]), fingerprint(LINES)
    state = marked(marked(None, "Person to Contact", first, "new"), "Person to Lead", first, "x")
    assert cleared(state, "Person to Lead", first) == {
        "steps": {"Person to Contact": {"fingerprint": first, "why": "new"}}
    }
    again = marked(state, "Person to Lead", second, "mapping changed")
    assert cleared(again, "Person to Lead", first) == again  # the newer mapping still waits
    assert cleared(None, "Person to Lead", first) == {"steps": {}}
